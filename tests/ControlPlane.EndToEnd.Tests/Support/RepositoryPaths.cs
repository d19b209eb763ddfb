namespace ControlPlane.EndToEnd.Tests.Support;

/// <summary>Files of the repository the plane is configured with: the demo seeds and the demo runner configurations.</summary>
public static class RepositoryPaths
{
    public static string Root => ControlPlane.Testing.RepositoryRoot.Path;

    public static string IdentitySeed => Path.Combine(Root, "src", "ControlPlane.Identity", "Seed", "demo-identity.json");

    public static string GraphSeed => Path.Combine(Root, "src", "ControlPlane.SystemGraph", "Seed", "demo-graph.json");

    public static string RunnerConfig(string fleet) => Path.Combine(Root, "src", "ControlPlane.Runner", "demo", $"runner.{fleet}.json");

}
