using ControlPlane.SystemGraph.Graph;
using static ControlPlane.SystemGraph.Tests.Graph.GraphBuilder;

namespace ControlPlane.SystemGraph.Tests.Graph;

public sealed class ImpactAnalyzerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_direct_dependent_is_found_at_depth_one_with_the_path_from_the_target()
    {
        var report = ImpactAnalyzer.Assess(Make("a->b"), ["b"], Now);

        var dependent = Assert.Single(report.Dependents);
        Assert.Equal("a", dependent.NodeId);
        Assert.Equal(1, dependent.Depth);
        Assert.Equal(["b", "a"], dependent.Path);
    }

    [Fact]
    public void Transitive_dependents_are_found_with_their_depth_and_path()
    {
        var report = ImpactAnalyzer.Assess(Make("a->b", "c->a", "d->c"), ["b"], Now);

        Assert.Equal(["a", "c", "d"], report.Dependents.Select(d => d.NodeId));
        Assert.Equal([1, 2, 3], report.Dependents.Select(d => d.Depth));
        Assert.Equal(["b", "a", "c", "d"], report.Dependents[2].Path);
    }

    [Fact]
    public void Dependencies_of_the_target_are_not_dependents()
    {
        var report = ImpactAnalyzer.Assess(Make("a->b", "b->c"), ["b"], Now);

        Assert.Equal(["a"], report.Dependents.Select(d => d.NodeId));
    }

    [Fact]
    public void A_diamond_reports_the_top_once_with_one_shortest_path()
    {
        var report = ImpactAnalyzer.Assess(Make("left->bottom", "right->bottom", "top->left", "top->right"), ["bottom"], Now);

        Assert.Equal(["left", "right", "top"], report.Dependents.Select(d => d.NodeId));
        var top = report.Dependents.Single(d => d.NodeId == "top");
        Assert.Equal(2, top.Depth);
        Assert.Equal(["bottom", "left", "top"], top.Path);
    }

    [Fact]
    public void A_cycle_terminates_and_never_lists_the_target_as_its_own_dependent()
    {
        var report = ImpactAnalyzer.Assess(Make("a->b", "b->c", "c->a"), ["a"], Now);

        Assert.Equal(["c", "b"], report.Dependents.Select(d => d.NodeId));
        Assert.Equal([1, 2], report.Dependents.Select(d => d.Depth));
        Assert.Equal(["a", "c", "b"], report.Dependents[1].Path);
    }

    [Fact]
    public void A_self_contained_cycle_elsewhere_in_the_graph_does_not_disturb_the_walk()
    {
        var report = ImpactAnalyzer.Assess(Make("x->y", "y->x", "y->target"), ["target"], Now);

        Assert.Equal(["y", "x"], report.Dependents.Select(d => d.NodeId));
    }

    [Fact]
    public void An_unknown_target_is_a_reason_naming_the_graph_version_not_an_error()
    {
        var graph = Make(7, [Node("a"), Node("b")], "a->b");

        var report = ImpactAnalyzer.Assess(graph, ["b", "ghost"], Now);

        Assert.Equal(["ghost"], report.UnknownTargets);
        Assert.Contains("unknown target 'ghost' is not in graph version 7", report.Reasons);
        Assert.Equal(7, report.GraphVersion);
        Assert.Equal(["a"], report.Dependents.Select(d => d.NodeId));
    }

    [Fact]
    public void Only_unknown_targets_touch_nothing_and_have_no_criticality()
    {
        var report = ImpactAnalyzer.Assess(Make("a->b"), ["ghost"], Now);

        Assert.Null(report.HighestCriticality);
        Assert.Empty(report.Dependents);
        Assert.Empty(report.Teams);
        Assert.False(report.RevenuePath);
        Assert.Contains("no transitive dependents", report.Reasons);
    }

    [Fact]
    public void Highest_criticality_is_the_lowest_tier_among_targets_and_dependents()
    {
        var graph = Make(1, [Node("leaf", tier: 3), Node("mid", tier: 2), Node("edge", tier: 0)], "mid->leaf", "edge->mid");

        Assert.Equal(0, ImpactAnalyzer.Assess(graph, ["leaf"], Now).HighestCriticality);
        Assert.Equal(0, ImpactAnalyzer.Assess(graph, ["edge"], Now).HighestCriticality);
        Assert.Equal(2, ImpactAnalyzer.Assess(Make(1, [Node("leaf", tier: 3), Node("mid", tier: 2)], "mid->leaf"), ["leaf"], Now).HighestCriticality);
    }

    [Fact]
    public void Facts_are_unioned_over_every_touched_node()
    {
        var graph = Make(1,
            [Node("db", tier: 0, classes: ["regulated"], team: "data"), Node("api", tier: 2, revenue: true, classes: ["pii"], team: "web"),
             Node("edge", tier: 1, classes: ["public"], exposed: true, team: "platform"), Node("island", tier: 0, revenue: true, exposed: true)],
            "api->db", "edge->api");

        var report = ImpactAnalyzer.Assess(graph, ["db"], Now);

        Assert.Equal(["pii", "public", "regulated"], report.DataClasses);
        Assert.Equal(["data", "platform", "web"], report.Teams);
        Assert.True(report.RevenuePath);
        Assert.True(report.InternetExposed);
        Assert.Equal(0, report.HighestCriticality);
    }

    [Fact]
    public void Several_targets_give_each_dependent_once_from_its_nearest_target_and_exclude_the_targets()
    {
        var report = ImpactAnalyzer.Assess(Make("a->b", "b->c", "x->a"), ["c", "a"], Now);

        Assert.Equal(["b", "x"], report.Dependents.Select(d => d.NodeId));
        Assert.Equal(["a", "x"], report.Dependents.Single(d => d.NodeId == "x").Path);
        Assert.Equal(["c", "a"], report.Targets);
    }

    [Fact]
    public void Targets_are_trimmed_and_deduplicated()
    {
        var report = ImpactAnalyzer.Assess(Make("a->b"), [" b", "b", ""], Now);

        Assert.Equal(["b"], report.Targets);
    }

    [Fact]
    public void The_demo_graph_gives_billing_a_blast_radius_through_checkout_to_the_gateway_with_readable_reasons()
    {
        var report = ImpactAnalyzer.Assess(Demo(version: 12), ["billing"], Now);

        Assert.Equal(["billing-admin", "checkout", "reporting", "gateway", "web-app"], report.Dependents.Select(d => d.NodeId));
        Assert.Equal(["billing", "checkout", "gateway"], report.Dependents.Single(d => d.NodeId == "gateway").Path);
        Assert.Equal(0, report.HighestCriticality);
        Assert.True(report.RevenuePath);
        Assert.True(report.InternetExposed);
        Assert.Contains("regulated", report.DataClasses);
        Assert.Contains("pci", report.DataClasses);
        Assert.Equal(12, report.GraphVersion);
        Assert.Equal(
        [
            "touches revenue path: billing is a target",
            "touches revenue path via checkout → billing",
            "regulated data: billing",
            "pci data: billing",
            "pii data: billing-admin, checkout, reporting, web-app",
            "tier-0 node affected: gateway",
            "tier-1 nodes affected: billing, checkout, web-app",
            "internet-exposed node affected: gateway",
            "5 transitive dependents",
        ], report.Reasons);
    }

    [Fact]
    public void The_demo_graph_gives_ledger_db_regulated_dependents_and_tier_0()
    {
        var report = ImpactAnalyzer.Assess(Demo(), ["ledger-db"], Now);

        Assert.Equal(["billing", "ledger-reconciliation", "reporting", "billing-admin", "checkout", "gateway", "web-app"], report.Dependents.Select(d => d.NodeId));
        Assert.Contains("regulated data: ledger-db, billing, ledger-reconciliation", report.Reasons);
        Assert.Contains("tier-0 nodes affected: ledger-db, gateway", report.Reasons);
    }

    [Fact]
    public void The_demo_graph_has_low_risk_leaves()
    {
        var report = ImpactAnalyzer.Assess(Demo(), ["reporting"], Now);

        Assert.Empty(report.Dependents);
        Assert.Equal(3, report.HighestCriticality);
        Assert.False(report.RevenuePath);
    }

    [Fact]
    public void Reasons_list_a_few_nodes_and_count_the_rest()
    {
        var nodes = Enumerable.Range(0, 8).Select(i => Node($"n{i}", tier: 0)).Append(Node("core", tier: 0)).ToList();
        var graph = Make(1, nodes, [.. Enumerable.Range(0, 8).Select(i => $"n{i}->core")]);

        var report = ImpactAnalyzer.Assess(graph, ["core"], Now);

        Assert.Contains("tier-0 nodes affected: core, n0, n1, n2, n3 and 4 more", report.Reasons);
        Assert.Contains("8 transitive dependents", report.Reasons);
    }

    [Fact]
    public void Many_targets_are_trimmed_and_each_kept_once_in_the_order_first_given()
    {
        // Past a handful of targets the analyzer keeps a set of the ids seen: the repeats here come before and after that point.
        var nodes = Enumerable.Range(0, 12).Select(i => Node($"t{i}")).Append(Node("x")).ToList();
        var graph = Make(1, nodes, "x->t0", "x->t11");
        string[] targets = ["t0", " t1 ", "", "t0", .. Enumerable.Range(2, 10).Select(i => $"t{i}"), "t3", " ", "ghost", "t11 ", "ghost"];

        var report = ImpactAnalyzer.Assess(graph, targets, Now);

        Assert.Equal([.. Enumerable.Range(0, 12).Select(i => $"t{i}"), "ghost"], report.Targets);
        Assert.Equal(["ghost"], report.UnknownTargets);
        var x = Assert.Single(report.Dependents);
        Assert.Equal(["t0", "x"], x.Path);
    }

    [Fact]
    public void A_large_chain_is_walked_without_recursion()
    {
        const int length = 20_000;
        var nodes = Enumerable.Range(0, length).Select(i => Node($"n{i}")).ToList();
        var graph = Make(1, nodes, [.. Enumerable.Range(1, length - 1).Select(i => $"n{i}->n{i - 1}")]);

        var report = ImpactAnalyzer.Assess(graph, ["n0"], Now);

        Assert.Equal(length - 1, report.Dependents.Count);
        Assert.Equal(length - 1, report.Dependents[^1].Depth);
        Assert.Equal(length, report.Dependents[^1].Path.Count);
    }
}
