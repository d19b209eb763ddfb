namespace ControlPlane.Cli.Commands;

/// <summary>
/// Where the services are: the same keys every launcher sets (services__name__http__0), else the ports
/// ./run.sh uses on loopback.
/// </summary>
public static class PlaneEndpoints
{
    public static readonly IReadOnlyDictionary<string, int> DefaultPorts = new Dictionary<string, int>
    {
        ["identity"] = 5101,
        ["system-graph"] = 5102,
        ["policy"] = 5103,
        ["orchestrator"] = 5104,
        ["fleet"] = 5105,
        ["evidence"] = 5106,
    };

    public static Uri For(string service)
    {
        var configured = Environment.GetEnvironmentVariable($"services__{service}__http__0");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new Uri(configured.TrimEnd('/') + "/");
        }

        return DefaultPorts.TryGetValue(service, out var port)
            ? new Uri($"http://127.0.0.1:{port}/")
            : throw new ArgumentException($"Unknown service '{service}'.", nameof(service));
    }
}
