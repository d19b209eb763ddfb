using ControlPlane.SystemGraph.Graph;

namespace ControlPlane.SystemGraph.Tests.Graph;

public sealed class GraphValidationTests
{
    [Fact]
    public void A_bad_node_names_every_bad_field()
    {
        var errors = new Dictionary<string, string[]>();

        var node = GraphValidation.ToNode("Not A Slug", new NodeBody("spaceship", " ", null, 7, null, ["ok", "Bad Class"], null), errors);

        Assert.Null(node);
        Assert.Equal(["criticalityTier", "dataClasses", "id", "kind", "name", "team"], errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_valid_node_gets_defaults_and_sorted_distinct_data_classes()
    {
        var errors = new Dictionary<string, string[]>();

        var node = GraphValidation.ToNode("ledger-db", new NodeBody("datastore", "Ledger", "payments", 0, null, ["regulated", "pci", "regulated"], null), errors);

        Assert.Empty(errors);
        Assert.True(new GraphNode("ledger-db", "datastore", "Ledger", "payments", 0, false, ["pci", "regulated"], false).SameAttributesAs(node!));
        Assert.Equal(["pci", "regulated"], node!.DataClasses);
    }

    [Fact]
    public void An_edge_from_a_node_to_itself_is_refused_on_to()
    {
        var errors = new Dictionary<string, string[]>();

        Assert.Null(GraphValidation.ToEdge(new EdgeBody("billing", "billing", "calls"), errors));
        Assert.Equal(["to"], errors.Keys);
    }

    [Fact]
    public void An_edge_with_an_unknown_kind_is_refused_on_kind()
    {
        var errors = new Dictionary<string, string[]>();

        Assert.Null(GraphValidation.ToEdge(new EdgeBody("checkout", "billing", "likes"), errors));
        Assert.Equal(["kind"], errors.Keys);
    }

    [Fact]
    public void Targets_are_split_on_commas_and_repeated_parameters()
    {
        Assert.Equal(["a", "b", "c"], GraphValidation.SplitTargets(["a, b", "c", "a", null, ""]));
    }

    [Fact]
    public void Equal_attributes_compare_data_classes_as_sets()
    {
        var a = new GraphNode("x", "service", "X", "t", 1, false, ["pii", "pci"], false);

        Assert.True(a.SameAttributesAs(a with { DataClasses = ["pci", "pii"] }));
        Assert.False(a.SameAttributesAs(a with { CriticalityTier = 2 }));
    }
}
