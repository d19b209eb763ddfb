using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.Identity.Seeding;
using ControlPlane.Testing;

namespace ControlPlane.SystemGraph.Tests;

/// <summary>
/// The real identity service and system-graph (seeded with the demo graph) on their own database and vhost, plus
/// a test bus that publishes like orchestrator and records what system-graph publishes.
/// </summary>
public sealed class GraphFixture : IAsyncLifetime
{
    public const string Admin = "gina@example.com";
    public const string Viewer = "vera@example.com";
    public const string Audience = "system-graph";

    private static readonly IdentitySeed Principals = new(
        [new SeedHuman(Admin, "Gina Graph-Admin", Admin, ["graph-admin"]), new SeedHuman(Viewer, "Vera Viewer", Viewer, ["viewer"])],
        []);

    public TestVirtualHost Vhost { get; private set; } = null!;
    public TestBus Bus { get; private set; } = null!;
    public TestIdentity Identity { get; private set; } = null!;
    public TestDatabase Database { get; private set; } = null!;
    public IReadOnlyDictionary<string, string?> Settings { get; private set; } = null!;
    public ServiceHost<SystemGraphService> Host { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Vhost = await TestVirtualHost.CreateAsync("graph");
        Identity = await TestIdentity.StartAsync(Vhost, Principals);
        Database = await TestDatabase.CreateAsync("graph");
        Settings = new PlaneSettings(Vhost, PlaneSettings.NewRedisPrefix())
            .Database("graph-db", Database.ConnectionString)
            .Service("identity", Identity.Address)
            .Set("SystemGraph:SeedFile", "Seed/demo-graph.json")
            .Build();
        Host = new ServiceHost<SystemGraphService>(Settings);
        await Host.WaitUntilReadyAsync();
        Bus = await TestBus.StartAsync(Vhost, o => o.Observe<ImpactAssessed>().Observe<GraphChanged>());
    }

    public async Task<HttpClient> ClientAsync(string principal) =>
        Host.CreateHttpClient(await Identity.HumanTokenAsync(principal, Audience));

    public async Task<long> CurrentVersionAsync()
    {
        using var http = await ClientAsync(Viewer);
        var body = await http.GetFromJsonAsync<System.Text.Json.JsonElement>("graph/nodes");
        return body.GetProperty("version").GetInt64();
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Bus.DisposeAsync();
        await Identity.DisposeAsync();
        await Database.DisposeAsync();
        await Vhost.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class GraphCollection : ICollectionFixture<GraphFixture>
{
    public const string Name = "system-graph on real servers";
}
