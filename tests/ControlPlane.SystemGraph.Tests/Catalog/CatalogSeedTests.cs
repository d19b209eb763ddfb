using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Identity.Seeding;
using ControlPlane.SystemGraph.Catalog;
using ControlPlane.SystemGraph.Graph;
using ControlPlane.Testing;
using static ControlPlane.SystemGraph.Tests.Catalog.CatalogSamples;

namespace ControlPlane.SystemGraph.Tests.Catalog;

/// <summary>system-graph started with SystemGraph:SeedCatalog = the shipped demo catalog, on an empty database.</summary>
public sealed class CatalogSeedTests
{
    [Fact]
    public async Task Starting_with_the_demo_catalog_loads_the_seed_graph_as_one_version_and_a_restart_adds_none()
    {
        var principals = new IdentitySeed([new SeedHuman(GraphFixture.Viewer, "Vera Viewer", GraphFixture.Viewer, ["viewer"])], []);
        await using var plane = await ServiceUnderTest<SystemGraphService>.StartAsync("system-graph", "graph-db", principals, _ => { },
            settings => settings.Set(CatalogSeeder.SeedCatalogKey, DemoFolder));

        using var viewer = await plane.ClientAsync(GraphFixture.Viewer);
        var nodes = await viewer.GetFromJsonAsync<JsonElement>("graph/nodes");
        var edges = (await viewer.GetFromJsonAsync<JsonElement>("graph/edges")).GetProperty("edges").Deserialize<List<GraphEdge>>(ContractJson.Options)!;
        var (seedNodes, seedEdges) = SeedGraph();

        Assert.Equal(1, nodes.GetProperty("version").GetInt64());
        var loaded = nodes.GetProperty("nodes").Deserialize<List<GraphNode>>(ContractJson.Options)!.OrderBy(n => n.Id, StringComparer.Ordinal).ToList();
        Assert.Equal(seedNodes.Count, loaded.Count);
        Assert.All(seedNodes.Zip(loaded), p => Assert.True(p.First.SameAttributesAs(p.Second), $"{p.First} vs {p.Second}"));
        Assert.Equal(seedEdges.Select(e => e.ToString()), edges.Select(e => e.ToString()).Order(StringComparer.Ordinal));

        // A second replica (or a restart) on the same database imports the same catalog: nothing changes.
        await using var again = new ServiceHost<SystemGraphService>(plane.Settings);
        await again.WaitUntilReadyAsync();
        Assert.Equal(1, await plane.CountAsync("select version from graph_head"));
    }
}
