using Microsoft.Extensions.Configuration;

namespace ControlPlane.AppHost;

/// <summary>
/// The fixed local ports every README walk-through, the CLI and curl use (identity 5101 ... evidence 5106, console 5107,
/// witness 5108, runners 5110/5111). ControlPlane:Ports:&lt;name&gt; moves one (the AppHost tests use their own range).
/// </summary>
public sealed class LocalPorts(IConfiguration configuration)
{
    public static readonly IReadOnlyDictionary<string, int> Defaults = new Dictionary<string, int>
    {
        ["identity"] = 5101, ["system-graph"] = 5102, ["policy"] = 5103, ["orchestrator"] = 5104,
        ["fleet"] = 5105, ["evidence"] = 5106, ["console"] = 5107, ["witness"] = 5108, ["runner-testing-1"] = 5110, ["runner-remediation-1"] = 5111,
    };

    public int this[string resource] =>
        configuration.GetValue<int?>($"ControlPlane:Ports:{resource}") ?? Defaults[resource];
}

public static class EndpointExtensions
{
    /// <summary>
    /// The project listens on the port itself (no DCP proxy in front): the address stays the same across restarts,
    /// and no extra hop sits on every request.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithFixedHttpPort(this IResourceBuilder<ProjectResource> project, int port) =>
        project.WithEndpoint("http", e =>
        {
            e.Port = port;
            e.TargetPort = port;
            e.IsProxied = false;
        });

    /// <summary>
    /// A runner's (or another workload's) client secret. In Development runs it defaults to the demo seed's secret (identity accepts
    /// plain seed secrets only in Development); anywhere else it must be given.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddRunnerSecret(this IDistributedApplicationBuilder builder, string runnerId) =>
        builder.ExecutionContext.IsRunMode && builder.Environment.EnvironmentName == "Development"
            ? builder.AddParameter($"{runnerId}-secret", $"demo-secret-{runnerId}-development-only", secret: true)
            : builder.AddParameter($"{runnerId}-secret", secret: true);
}
