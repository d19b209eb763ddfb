using ControlPlane.Contracts;
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
    public void Suites_are_validated_field_by_field_and_kept_ordered_by_name_with_the_default_stage_unsaid()
    {
        var errors = new Dictionary<string, string[]>();
        SuiteBody?[] suites =
        [
            new SuiteBody("z-leak", "testing", " leak gone ", 60, "verify"),
            new SuiteBody("a-contract", "testing", "contract", 120, "validate"),
        ];

        var node = GraphValidation.ToNode("billing", new NodeBody("service", "Billing", "payments", 1, null, null, null, suites), errors);

        Assert.Empty(errors);
        Assert.Equal([new ValidationSuite("a-contract", "testing", "contract", 120), new ValidationSuite("z-leak", "testing", "leak gone", 60, "verify")],
            node!.Suites!);
    }

    [Fact]
    public void A_bad_suite_names_each_bad_field_with_its_index()
    {
        var errors = new Dictionary<string, string[]>();
        SuiteBody?[] suites =
        [
            new SuiteBody("ok", "testing", "fine", 1),
            new SuiteBody("Bad Name", null, " ", 0, "later"),
            new SuiteBody("ok", "testing", "twice", 1),
            null,
        ];

        Assert.Null(GraphValidation.ToNode("billing", new NodeBody("service", "Billing", "payments", 1, null, null, null, suites), errors));
        Assert.Equal(["suites[1].covers", "suites[1].durationSeconds", "suites[1].fleet", "suites[1].name", "suites[1].stage", "suites[2].name", "suites[3]"],
            errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void An_edge_flow_is_derived_from_the_kind_unless_given_and_must_be_known()
    {
        var errors = new Dictionary<string, string[]>();

        Assert.Equal(EdgeFlows.DataWrite, GraphValidation.ToEdge(new EdgeBody("billing", "ledger-db", "writes"), errors)!.Flow);
        Assert.Equal(EdgeFlows.PublicIngress, GraphValidation.ToEdge(new EdgeBody("gateway", "checkout", "calls", "public-ingress"), errors)!.Flow);
        Assert.Empty(errors);
        Assert.Null(GraphValidation.ToEdge(new EdgeBody("gateway", "checkout", "calls", "teleport"), errors));
        Assert.Equal(["flow"], errors.Keys);
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
