using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Identity.Seeding;
using ControlPlane.Testing;

namespace ControlPlane.SystemGraph.Tests;

/// <summary>system-graph seeded with the demo graph, the real identity service, and a test bus recording ImpactAssessed and GraphChanged.</summary>
public sealed class GraphFixture : IAsyncLifetime
{
    public const string Admin = "gina@example.com";
    public const string Viewer = "vera@example.com";

    private static readonly IdentitySeed Principals = new(
        [new SeedHuman(Admin, "Gina Graph-Admin", Admin, ["graph-admin"]), new SeedHuman(Viewer, "Vera Viewer", Viewer, ["viewer"])],
        []);

    public ServiceUnderTest<SystemGraphService> Plane { get; private set; } = null!;

    public ServiceHost<SystemGraphService> Host => Plane.Host;

    public TestBus Bus => Plane.Bus;

    public async ValueTask InitializeAsync() =>
        Plane = await ServiceUnderTest<SystemGraphService>.StartAsync("system-graph", "graph-db", Principals,
            o => o.Observe<ImpactAssessed>().Observe<GraphChanged>(),
            settings => settings.Set("SystemGraph:SeedFile", "Seed/demo-graph.json"));

    public Task<HttpClient> ClientAsync(string principal) => Plane.ClientAsync(principal);

    public async Task<long> CurrentVersionAsync()
    {
        using var http = await ClientAsync(Viewer);
        return (await http.GetFromJsonAsync<JsonElement>("graph/nodes")).GetProperty("version").GetInt64();
    }

    public async ValueTask DisposeAsync() => await Plane.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class GraphCollection : ICollectionFixture<GraphFixture>
{
    public const string Name = "system-graph on real servers";
}
