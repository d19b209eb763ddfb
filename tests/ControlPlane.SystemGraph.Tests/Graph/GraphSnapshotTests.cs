using ControlPlane.SystemGraph.Graph;
using static ControlPlane.SystemGraph.Tests.Graph.GraphBuilder;

namespace ControlPlane.SystemGraph.Tests.Graph;

public sealed class GraphSnapshotTests
{
    [Fact]
    public void Edges_of_several_kinds_between_one_pair_are_one_dependency()
    {
        var graph = new GraphSnapshot(1, [Node("a"), Node("b")], [new GraphEdge("a", "b", "reads"), new GraphEdge("a", "b", "writes")]);

        Assert.Equal(1, graph.EdgeCount);
        Assert.True(graph.TryGetIndex("b", out var b));
        Assert.Equal(1, graph.DependentsOf(b).Length);
    }

    [Fact]
    public void An_edge_to_a_node_outside_the_version_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => new GraphSnapshot(3, [Node("a")], [new GraphEdge("a", "ghost", "calls")]));

        Assert.Contains("graph version 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_node_ids_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new GraphSnapshot(1, [Node("a"), Node("a")], []));
    }
}
