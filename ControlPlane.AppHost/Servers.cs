using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ControlPlane.AppHost;

/// <summary>How the AppHost gets RabbitMQ, PostgreSQL and Redis.</summary>
public enum ServerMode
{
    /// <summary>Containers where a container runtime answers, else the local servers.</summary>
    Auto,

    /// <summary>RabbitMQ, PostgreSQL and Redis as containers (Docker or Podman).</summary>
    Containers,

    /// <summary>
    /// The servers eng/servers.sh starts from the OS packages, as connection strings with health checks of their
    /// own. No container resource at all: without an engine one would block every WaitFor forever.
    /// </summary>
    Local,
}

/// <summary>The three servers as connection-string resources, whichever way they are provided.</summary>
public sealed class Servers
{
    /// <summary>The one switch: ControlPlane:Servers = auto | containers | local (env ControlPlane__Servers).</summary>
    public const string ModeKey = "ControlPlane:Servers";

    public static readonly string[] DatabaseNames = ["identity-db", "graph-db", "policy-db", "orchestrator-db", "fleet-db", "evidence-db"];

    private readonly Dictionary<string, IResourceBuilder<IResourceWithConnectionString>> _databases;

    private Servers(
        ServerMode mode,
        IResourceBuilder<IResourceWithConnectionString> messaging,
        IResourceBuilder<IResourceWithConnectionString> cache,
        Dictionary<string, IResourceBuilder<IResourceWithConnectionString>> databases)
    {
        Mode = mode;
        Messaging = messaging;
        Cache = cache;
        _databases = databases;
    }

    public ServerMode Mode { get; }

    public IResourceBuilder<IResourceWithConnectionString> Messaging { get; }

    public IResourceBuilder<IResourceWithConnectionString> Cache { get; }

    public IResourceBuilder<IResourceWithConnectionString> Database(string name) => _databases[name];

    public static Servers Add(IDistributedApplicationBuilder builder)
    {
        var mode = ChooseMode(builder.Configuration[ModeKey], ContainerRuntimeAnswers);
        return mode == ServerMode.Containers ? AddContainers(builder) : AddLocal(builder);
    }

    /// <summary>The mode for a configured value; "auto" (or nothing) asks whether a container runtime answers.</summary>
    public static ServerMode ChooseMode(string? configured, Func<bool> containerRuntimeAnswers) =>
        string.IsNullOrWhiteSpace(configured) ? Detect(containerRuntimeAnswers)
        : Enum.TryParse<ServerMode>(configured.Trim(), ignoreCase: true, out var mode) && Enum.IsDefined(mode)
            ? (mode == ServerMode.Auto ? Detect(containerRuntimeAnswers) : mode)
            : throw new InvalidOperationException(
                $"{ModeKey} is '{configured}'; use auto, containers or local (e.g. --{ModeKey}=local or ControlPlane__Servers=local).");

    private static ServerMode Detect(Func<bool> containerRuntimeAnswers) =>
        containerRuntimeAnswers() ? ServerMode.Containers : ServerMode.Local;

    private static Servers AddContainers(IDistributedApplicationBuilder builder)
    {
        // Image tags are pinned before the data volumes: a volume written by one major version is not read by another.
        var messaging = builder.AddRabbitMQ("messaging").WithImageTag("4.2-management").WithManagementPlugin().WithDataVolume();
        var postgres = builder.AddPostgres("postgres").WithImageTag("17.6").WithDataVolume();
        var cache = builder.AddRedis("cache");
        var databases = DatabaseNames.ToDictionary(
            name => name, name => (IResourceBuilder<IResourceWithConnectionString>)postgres.AddDatabase(name));
        return new Servers(ServerMode.Containers, messaging, cache, databases);
    }

    private static Servers AddLocal(IDistributedApplicationBuilder builder)
    {
        var postgres = builder.Configuration["ControlPlane:LocalServers:Postgres"] ?? "Host=127.0.0.1;Port=5432;Username=postgres";
        var messaging = AddLocalServer(builder, "messaging",
            builder.Configuration["ControlPlane:LocalServers:Messaging"] ?? "amqp://guest:guest@127.0.0.1:5672");
        var cache = AddLocalServer(builder, "cache", builder.Configuration["ControlPlane:LocalServers:Cache"] ?? "127.0.0.1:6379");
        // A prefix keeps the databases of a second plane on the same server (the AppHost tests) apart from ./run.sh's.
        var prefix = builder.Configuration["ControlPlane:LocalServers:DatabasePrefix"] ?? string.Empty;
        var databases = DatabaseNames.ToDictionary(name => name, name => AddLocalServer(builder, name, $"{postgres};Database={prefix}{name}"));
        return new Servers(ServerMode.Local, messaging, cache, databases);
    }

    // A connection string the dashboard lists with a health of its own (the server's port answers), so WaitFor
    // holds every service until the server is up, and an SRE sees which server is missing.
    private static IResourceBuilder<IResourceWithConnectionString> AddLocalServer(IDistributedApplicationBuilder builder, string name, string connectionString)
    {
        var (host, port) = LocalEndpoint.Parse(connectionString);
        var healthKey = $"{name}-reachable";
        builder.Services.AddHealthChecks().AddAsyncCheck(healthKey, ct => LocalEndpoint.CheckAsync(host, port, ct));
        return builder.AddConnectionString(name, ReferenceExpression.Create($"{connectionString}")).WithHealthCheck(healthKey);
    }

    // Docker's or Podman's API socket, or a DOCKER_HOST, that accepts a connection. A docker CLI without an engine
    // (as on the CI machines) is not a runtime.
    private static bool ContainerRuntimeAnswers()
    {
        if (Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } dockerHost)
        {
            return !dockerHost.StartsWith("unix://", StringComparison.Ordinal) || SocketAnswers(dockerHost["unix://".Length..]);
        }

        var runtimeDir = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        string[] sockets = ["/var/run/docker.sock", runtimeDir is null ? "/run/podman/podman.sock" : Path.Combine(runtimeDir, "podman", "podman.sock")];
        return sockets.Any(SocketAnswers);
    }

    private static bool SocketAnswers(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>Host and port of a local server, from an amqp URI, an Npgsql key=value string or Redis host:port.</summary>
public static class LocalEndpoint
{
    public static (string Host, int Port) Parse(string connectionString)
    {
        if (Uri.TryCreate(connectionString, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps")
        {
            return (uri.Host, uri.IsDefaultPort || uri.Port <= 0 ? 5672 : uri.Port);
        }

        if (connectionString.Contains("Host=", StringComparison.OrdinalIgnoreCase))
        {
            var pairs = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(p => p.Split('=', 2))
                .Where(p => p.Length == 2)
                .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
            return (pairs.GetValueOrDefault("Host", "127.0.0.1"), int.Parse(pairs.GetValueOrDefault("Port", "5432"), System.Globalization.CultureInfo.InvariantCulture));
        }

        var first = connectionString.Split(',')[0];
        var colon = first.LastIndexOf(':');
        return colon < 0 ? (first, 6379) : (first[..colon], int.Parse(first[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    public static async Task<HealthCheckResult> CheckAsync(string host, int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(host, port, cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            return HealthCheckResult.Healthy($"{host}:{port} answers");
        }
        catch (Exception ex) when (ex is SocketException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"{host}:{port} does not answer; start the servers with eng/servers.sh up");
        }
    }
}
