using ControlPlane.Contracts;
using ControlPlane.Identity.Seeding;
using ControlPlane.Testing;

namespace ControlPlane.SystemGraph.Tests.Catalog;

/// <summary>system-graph with an EMPTY graph (no seed file) in its own database, so an import is the only writer.</summary>
public sealed class CatalogImportFixture : IAsyncLifetime
{
    private static readonly IdentitySeed Principals = new(
        [new SeedHuman(GraphFixture.Admin, "Gina Graph-Admin", GraphFixture.Admin, ["graph-admin"]),
         new SeedHuman(GraphFixture.Viewer, "Vera Viewer", GraphFixture.Viewer, ["viewer"])],
        []);

    public ServiceUnderTest<SystemGraphService> Plane { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        Plane = await ServiceUnderTest<SystemGraphService>.StartAsync("system-graph", "graph-db", Principals, o => o.Observe<GraphChanged>());

    public Task<HttpClient> ClientAsync(string principal) => Plane.ClientAsync(principal);

    public async ValueTask DisposeAsync() => await Plane.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class CatalogImportCollection : ICollectionFixture<CatalogImportFixture>
{
    public const string Name = "catalog import on real servers";
}
