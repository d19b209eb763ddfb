using ControlPlane.SystemGraph.Catalog;
using ControlPlane.SystemGraph.Graph;

namespace ControlPlane.SystemGraph.Tests.Catalog;

public sealed class CatalogDiffTests
{
    private const string Source = "backstage";

    private static GraphNode Node(string id, int tier = 2) => new(id, "service", id, "team-a", tier, false, ["pii"], false);

    [Fact]
    public void An_empty_graph_gets_everything_added()
    {
        var catalog = new CatalogGraph([Node("a"), Node("b")], [new GraphEdge("a", "b", "calls")], []);

        var diff = CatalogDiff.Compute(Source, [], [], catalog);

        Assert.Equal(["a", "b"], diff.AddedNodes.Select(n => n.Id));
        Assert.Single(diff.AddedEdges);
        Assert.Empty(diff.ChangedNodes.Concat<object>(diff.RemovedNodes).Concat(diff.RemovedEdges).Concat(diff.ChangedEdges));
    }

    [Fact]
    public void The_same_catalog_again_is_an_empty_diff()
    {
        var catalog = new CatalogGraph([Node("a"), Node("b")], [new GraphEdge("a", "b", "calls")], []);

        var diff = CatalogDiff.Compute(Source, [new(Node("a"), Source), new(Node("b"), Source)], [new(new GraphEdge("a", "b", "calls"), Source)], catalog);

        Assert.True(diff.IsEmpty);
    }

    [Fact]
    public void Changes_name_their_fields_and_what_the_catalog_dropped_is_removed_with_every_edge_touching_it()
    {
        var catalog = new CatalogGraph([Node("a", tier: 0)], [], []);
        var current = new SourcedNode[] { new(Node("a"), Source), new(Node("b"), Source), new(Node("manual"), null) };
        var edges = new SourcedEdge[] { new(new GraphEdge("a", "b", "calls"), Source), new(new GraphEdge("manual", "b", "reads"), null), new(new GraphEdge("manual", "a", "calls"), null) };

        var diff = CatalogDiff.Compute(Source, current, edges, catalog);

        var change = Assert.Single(diff.ChangedNodes);
        Assert.Equal(["criticalityTier"], change.Fields);
        Assert.Equal(["b"], diff.RemovedNodes.Select(n => n.Id));
        Assert.Equal(["a->b:calls", "manual->b:reads"], diff.RemovedEdges.Select(e => e.ToString()));
        Assert.Empty(diff.AddedNodes);
    }

    [Fact]
    public void Hand_written_nodes_and_edges_the_catalog_also_names_are_adopted_and_never_removed_otherwise()
    {
        var catalog = new CatalogGraph([Node("a")], [], []);
        var current = new SourcedNode[] { new(Node("a"), null), new(Node("other"), null), new(Node("c"), "another-catalog") };

        var diff = CatalogDiff.Compute(Source, current, [], catalog);

        Assert.Equal(["source"], Assert.Single(diff.ChangedNodes).Fields);
        Assert.Empty(diff.RemovedNodes);
    }
}
