using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Identity.Seeding;
using ControlPlane.Testing;

namespace ControlPlane.Client.Tests;

/// <summary>
/// What an agent client talks to, started once for the collection as the end-to-end plane is: identity with the
/// demo principals, system-graph with the demo graph, policy with its default bundle, and orchestrator, each on a
/// real port with its own database, on one vhost and Redis prefix.
/// </summary>
public sealed class ClientPlane : IAsyncLifetime
{
    public const string Agent = "remediation-agent";
    public const string AgentSecret = "demo-secret-remediation-agent-development-only";

    private readonly List<IAsyncDisposable> _owned = [];

    public static string Root => RepositoryRoot.Path;

    public TestIdentity Identity { get; private set; } = null!;

    public Uri Orchestrator { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var vhost = await TestVirtualHost.CreateAsync("clients");
        _owned.Add(vhost);
        var redisPrefix = PlaneSettings.NewRedisPrefix();
        var seed = JsonSerializer.Deserialize<IdentitySeed>(
            await File.ReadAllTextAsync(Path.Combine(Root, "src", "ControlPlane.Identity", "Seed", "demo-identity.json")), ContractJson.Options)!;
        Identity = await TestIdentity.StartAsync(vhost, seed);
        _owned.Insert(0, Identity);

        async Task<Uri> StartAsync<TEntryPoint>(string database, Action<PlaneSettings>? configure = null) where TEntryPoint : class
        {
            var db = await TestDatabase.CreateAsync(database.Replace("-db", "", StringComparison.Ordinal));
            _owned.Insert(0, db);
            var settings = new PlaneSettings(vhost, redisPrefix).Service("identity", Identity.Address).Database(database, db.ConnectionString);
            configure?.Invoke(settings);
            var host = new ServiceHost<TEntryPoint>(settings.Build());
            _owned.Insert(0, host);
            await host.WaitUntilReadyAsync();
            return host.BaseAddress;
        }

        await StartAsync<ControlPlane.SystemGraph.SystemGraphService>("graph-db",
            s => s.Set("SystemGraph:SeedFile", Path.Combine(Root, "src", "ControlPlane.SystemGraph", "Seed", "demo-graph.json")));
        await StartAsync<ControlPlane.Policy.PolicyService>("policy-db");
        Orchestrator = await StartAsync<ControlPlane.Orchestrator.OrchestratorService>("orchestrator-db");
    }

    public ControlPlaneClientOptions Options(string clientId = Agent, string secret = AgentSecret) => new()
    {
        Identity = Identity.Address,
        Orchestrator = Orchestrator,
        ClientId = clientId,
        ClientSecret = secret,
        PollInterval = TimeSpan.FromMilliseconds(300),
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }
    }

}

[CollectionDefinition(Name)]
public sealed class ClientPlaneCollection : ICollectionFixture<ClientPlane>
{
    public const string Name = "agent clients against the real plane";
}
