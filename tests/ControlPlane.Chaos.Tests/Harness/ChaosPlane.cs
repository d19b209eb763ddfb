using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using ControlPlane.Testing;
using Npgsql;

namespace ControlPlane.Chaos.Tests.Harness;

/// <summary>
/// The whole plane as OS processes on servers of its own: identity, system-graph, policy, evidence, two replicas each
/// of orchestrator and fleet (behind one address each, competing for the same queues), one runner per fleet. Every
/// service reaches PostgreSQL, RabbitMQ and Redis through its own <see cref="TcpProxy"/>, so one link can be cut.
/// </summary>
public sealed class ChaosPlane : IAsyncDisposable
{
    public static readonly string[] Runners = ["runner-testing-1", "runner-remediation-1"];

    private static readonly (string Service, string Project, string? Database)[] Services =
    [
        ("identity", "ControlPlane.Identity", "identity-db"),
        ("system-graph", "ControlPlane.SystemGraph", "graph-db"),
        ("policy", "ControlPlane.Policy", "policy-db"),
        ("evidence", "ControlPlane.Evidence", "evidence-db"),
        ("orchestrator-a", "ControlPlane.Orchestrator", "orchestrator-db"),
        ("orchestrator-b", "ControlPlane.Orchestrator", "orchestrator-db"),
        ("fleet-a", "ControlPlane.Fleet", "fleet-db"),
        ("fleet-b", "ControlPlane.Fleet", "fleet-db"),
    ];

    private readonly Dictionary<string, PlaneProcess> _processes = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Process, string Server), TcpProxy> _links = [];
    private readonly List<TcpProxy> _fronts = [];
    private readonly string _root;

    private ChaosPlane(string root, string logs)
    {
        _root = root;
        Logs = logs;
        RunnerStates = Path.Combine(root, "runners");
    }

    public string Logs { get; }

    public string RunnerStates { get; }

    public PrivateRabbit Rabbit { get; private set; } = null!;

    public PrivatePostgres Postgres { get; private set; } = null!;

    public PrivateRedis Redis { get; private set; } = null!;

    public Uri Identity => _processes["identity"].Address;

    /// <summary>The one address of both orchestrator replicas.</summary>
    public Uri Orchestrator { get; private set; } = null!;

    public Uri Evidence => _processes["evidence"].Address;

    public IReadOnlyCollection<string> ProcessNames => _processes.Keys;

    /// <summary>The links that can be cut: (process, server).</summary>
    public IReadOnlyCollection<(string Process, string Server)> Links => _links.Keys;

    public static async Task<ChaosPlane> StartAsync(string logs, TimeSpan startTimeout)
    {
        var root = Path.Combine(Path.GetTempPath(), $"cpchaos-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(logs);
        var plane = new ChaosPlane(root, logs);
        try
        {
            await plane.StartServersAsync();
            plane.Configure();
            await Task.WhenAll(plane._processes.Values.Where(p => !Runners.Contains(p.Name)).Select(p => p.StartAsync(startTimeout)));
            await Task.WhenAll(Runners.Select(r => plane._processes[r].StartAsync(startTimeout))); // healthy once fleet registered them
            return plane;
        }
        catch
        {
            await plane.DisposeAsync();
            throw;
        }
    }

    private async Task StartServersAsync()
    {
        var rabbit = PrivateRabbit.StartAsync(_root, Logs);
        var postgres = PrivatePostgres.StartAsync(_root, Logs);
        var redis = PrivateRedis.StartAsync(_root, Logs);
        await Task.WhenAll(rabbit, postgres, redis);
        (Rabbit, Postgres, Redis) = (rabbit.Result, postgres.Result, redis.Result);
        await using var admin = NpgsqlDataSource.Create(Postgres.ConnectionString("postgres"));
        foreach (var database in Services.Select(s => s.Database).Distinct())
        {
            await using var create = admin.CreateCommand($"create database \"{database}\"");
            await create.ExecuteNonQueryAsync();
        }
    }

    private void Configure()
    {
        var ports = Services.Select(s => s.Service).Concat(Runners).ToDictionary(n => n, _ => FreePorts.Next(), StringComparer.Ordinal);
        // One address in front of each pair of replicas (round robin, another replica when one refuses).
        var orchestratorFront = new TcpProxy("127.0.0.1", [ports["orchestrator-a"], ports["orchestrator-b"]]);
        var fleetFront = new TcpProxy("127.0.0.1", [ports["fleet-a"], ports["fleet-b"]]);
        _fronts.AddRange([orchestratorFront, fleetFront]);
        _fronts.ForEach(f => f.Start());
        Orchestrator = new Uri(Url(orchestratorFront.Port));
        var addresses = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["identity"] = Url(ports["identity"]),
            ["system-graph"] = Url(ports["system-graph"]),
            ["policy"] = Url(ports["policy"]),
            ["evidence"] = Url(ports["evidence"]),
            ["orchestrator"] = Url(orchestratorFront.Port),
            ["fleet"] = Url(fleetFront.Port),
        };
        var keys = new[] { "Identity", "Fleet", "Evidence" }.ToDictionary(k => k, _ => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));

        foreach (var (service, project, database) in Services)
        {
            var env = Common(service, addresses);
            env[$"ConnectionStrings__{database}"] = $"Host=127.0.0.1;Port={Link(service, "postgres", Postgres.Port)};Username=postgres;Database={database}";
            env["ConnectionStrings__cache"] = $"127.0.0.1:{Link(service, "redis", Redis.Port)}";
            env["Identity__KeyEncryptionKey"] = keys["Identity"];
            env["Fleet__KeyEncryptionKey"] = keys["Fleet"];
            env["Evidence__KeyEncryptionKey"] = keys["Evidence"];
            env["Identity__SeedFile"] = Path.Combine(RepositoryRoot.Path, "src", "ControlPlane.Identity", "Seed", "demo-identity.json");
            env["Identity__DevLogin__Enabled"] = "true";
            // Everything runs from 127.0.0.1: identity's per-address and per-client limits are not what this suite tests.
            env["Identity__RateLimits__PerClient__Limit"] = "100000";
            env["Identity__RateLimits__PerAddress__Limit"] = "100000";
            env["Orchestrator__RateLimit__PerMinute"] = "100000";
            env["SystemGraph__SeedFile"] = Path.Combine(RepositoryRoot.Path, "src", "ControlPlane.SystemGraph", "Seed", "demo-graph.json");
            env["Evidence__ChainStatusCacheDuration"] = "00:00:01";
            _processes[service] = new PlaneProcess(service, Dll(project), ports[service], env, Logs);
        }

        foreach (var runner in Runners)
        {
            var fleet = runner.Split('-')[1];
            var env = Common(runner, addresses);
            env["Runner__Id"] = runner;
            env["Runner__Fleet"] = fleet;
            env["Runner__ClientId"] = runner;
            env["Runner__ClientSecret"] = $"demo-secret-{runner}-development-only"; // the demo seed's, accepted in Development only
            env["Runner__ConfigFile"] = Path.Combine(RepositoryRoot.Path, "src", "ControlPlane.Runner", "demo", $"runner.{fleet}.json");
            env["Runner__StateDirectory"] = Path.Combine(RunnerStates, runner);
            _processes[runner] = new PlaneProcess(runner, Dll("ControlPlane.Runner"), ports[runner], env, Logs);
        }
    }

    private Dictionary<string, string?> Common(string process, Dictionary<string, string> addresses)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["ConnectionStrings__messaging"] = $"amqp://guest:guest@127.0.0.1:{Link(process, "rabbitmq", Rabbit.Port)}",
        };
        foreach (var (name, address) in addresses)
        {
            env[$"services__{name}__http__0"] = address;
        }

        return env;
    }

    private int Link(string process, string server, int serverPort)
    {
        var proxy = new TcpProxy("127.0.0.1", serverPort);
        proxy.Start();
        _links[(process, server)] = proxy;
        return proxy.Port;
    }

    private static string Url(int port) => string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}");

    /// <summary>The service's build next to this suite's (same configuration): built through the suite's project references.</summary>
    private static string Dll(string project)
    {
        var configuration = typeof(ChaosPlane).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .First(a => a.Key == "BuildConfiguration").Value!;
        var dll = Path.Combine(RepositoryRoot.Path, "src", project, "bin", configuration, "net10.0", $"{project}.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"{dll} is missing: build the suite (dotnet build tests/ControlPlane.Chaos.Tests -c {configuration}).", dll);
    }

    /// <summary>kill -9, then the same process started again on the same port and state once <paramref name="down"/> passed.</summary>
    public async Task KillAndRestartAsync(string process, TimeSpan down, TimeSpan startTimeout)
    {
        _processes[process].Kill();
        await Task.Delay(down);
        await _processes[process].StartAsync(startTimeout);
    }

    /// <summary>Cuts one process's link to a server (every connection dropped, new ones refused) for <paramref name="down"/>.</summary>
    public async Task CutLinkAsync(string process, string server, TimeSpan down)
    {
        var link = _links[(process, server)];
        link.Stop();
        await Task.Delay(down);
        link.Start();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes.Values)
        {
            process.Dispose();
        }

        foreach (var link in _links.Values)
        {
            await link.DisposeAsync();
        }

        foreach (var front in _fronts)
        {
            await front.DisposeAsync();
        }

        await DisposeQuietly(Rabbit);
        await DisposeQuietly(Postgres);
        await DisposeQuietly(Redis);
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a server still closing files: the temp folder is left behind
        }
    }

    private static async Task DisposeQuietly(IAsyncDisposable? server)
    {
        try
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            // teardown goes on: the other servers must stop too
        }
    }
}
