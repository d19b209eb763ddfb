using System.Xml.Linq;

namespace ControlPlane.ServiceDefaults.Tests.Architecture;

/// <summary>
/// Services share code only through the shared libraries (Contracts, ServiceDefaults, the evidence verifier the CLI and
/// console also run, the agent client): no service project references another service project, so each can be built,
/// deployed and scaled alone.
/// </summary>
public sealed class ProjectReferenceTests
{
    private static readonly string[] ServiceProjects =
    [
        "ControlPlane.Identity", "ControlPlane.SystemGraph", "ControlPlane.Policy", "ControlPlane.Orchestrator",
        "ControlPlane.Fleet", "ControlPlane.Evidence", "ControlPlane.Runner", "ControlPlane.Witness",
    ];

    // Libraries a service may share: wire shapes, defaults, and the logic a CLI or console runs too (bundle verification, the policy language).
    private static readonly string[] Shared =
        ["ControlPlane.Contracts", "ControlPlane.ServiceDefaults", "ControlPlane.Evidence.Verification", "ControlPlane.Client", "ControlPlane.Policy.Rules"];

    public static TheoryData<string> Services => [.. ServiceProjects];

    [Theory]
    [MemberData(nameof(Services))]
    public void A_service_references_only_the_shared_projects(string service)
    {
        var project = Path.Combine(RepositoryRoot(), "src", service, service + ".csproj");
        var references = XDocument.Load(project).Descendants("ProjectReference")
            .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')))
            .ToList();

        Assert.NotEmpty(references);
        Assert.All(references, reference => Assert.Contains(reference, Shared));
    }

    [Fact]
    public void The_shared_projects_reference_no_service()
    {
        var root = RepositoryRoot();
        foreach (var project in Shared.Select(name => name == "ControlPlane.ServiceDefaults"
            ? Path.Combine(root, name, name + ".csproj")
            : Path.Combine(root, "src", name, name + ".csproj")))
        {
            var references = XDocument.Load(project).Descendants("ProjectReference")
                .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')));
            Assert.DoesNotContain(references, r => ServiceProjects.Contains(r));
        }
    }

    private static string RepositoryRoot() => ControlPlane.Testing.RepositoryRoot.Path;
}
