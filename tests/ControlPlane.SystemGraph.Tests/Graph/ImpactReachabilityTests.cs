using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.SystemGraph.Graph;
using static ControlPlane.SystemGraph.Tests.Graph.GraphBuilder;

namespace ControlPlane.SystemGraph.Tests.Graph;

public sealed class ImpactReachabilityTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Billing_impact_names_the_reachable_subset_its_paths_flows_and_suites()
    {
        var report = ImpactReachability.Assess(Demo(), ["billing"], Now);

        var billing = Assert.Single(report.TargetNodes!);
        Assert.Equal(("billing", 0, true), (billing.NodeId, billing.Depth, billing.Reachable));
        Assert.Equal(["gateway", "checkout", "billing"], billing.ReachablePath);
        Assert.Equal(["billing-api-contract", "billing-leak-check", "billing-ledger-integrity"], billing.Suites!.Select(s => s.Name));
        Assert.Equal(["checkout", "gateway", "web-app"], report.Dependents.Where(d => d.Reachable).Select(d => d.NodeId).Order(StringComparer.Ordinal));
        var checkout = report.Dependents.Single(d => d.NodeId == "checkout");
        Assert.Equal(EdgeFlows.InternalCall, checkout.Flow);
        Assert.Equal(["gateway", "checkout"], checkout.ReachablePath);
        Assert.Equal("checkout-e2e", Assert.Single(checkout.Suites!).Name);
        var gateway = report.Dependents.Single(d => d.NodeId == "gateway");
        Assert.Equal(EdgeFlows.PublicIngress, gateway.Flow); // gateway → checkout is the public ingress edge
        var admin = report.Dependents.Single(d => d.NodeId == "billing-admin");
        Assert.False(admin.Reachable);
        Assert.Null(admin.ReachablePath);
        Assert.Contains("target billing is reachable from outside via gateway → checkout → billing", report.Reasons);
        Assert.Contains("3 of 5 dependents reachable from outside", report.Reasons);
    }

    [Fact]
    public void The_batch_job_is_not_reachable_and_says_so()
    {
        var report = ImpactReachability.Assess(Demo(), ["ledger-reconciliation", "ghost"], Now);

        var job = Assert.Single(report.TargetNodes!);
        Assert.False(job.Reachable);
        Assert.Empty(report.Dependents);
        Assert.Contains("target ledger-reconciliation is not reachable from outside: no entry's traffic reaches it", report.Reasons);
        Assert.Equal(["ghost"], report.UnknownTargets);
    }

    [Fact]
    public void An_old_report_without_the_new_fields_serializes_as_before()
    {
        var plain = ImpactAnalyzer.Assess(Demo(), ["reporting"], Now);

        var json = JsonSerializer.Serialize(plain, ContractJson.Options);

        Assert.DoesNotContain("targetNodes", json, StringComparison.Ordinal);
        Assert.DoesNotContain("reachable", json, StringComparison.Ordinal);
    }

    /// <summary>
    /// Property: adding nodes unrelated to the change (no path to or from the targets, entries among them) changes
    /// nothing in the report but the version, so no plan derived from it can change.
    /// </summary>
    [Theory]
    [InlineData("billing")]
    [InlineData("ledger-reconciliation")]
    [InlineData("checkout")]
    [InlineData("invoices-queue")]
    public void Adding_unrelated_nodes_changes_nothing_but_the_version(string target)
    {
        var demo = Demo(version: 1);
        var nodes = Enumerable.Range(0, demo.NodeCount).Select(i => demo[i]).ToList();
        var edges = DemoEdges();
        var before = ImpactReachability.Assess(demo, [target], Now);

        var extra = new List<GraphNode>
        {
            Node("aa-public-site", tier: 0, classes: ["regulated"], exposed: true) with { Suites = [new ValidationSuite("aa-smoke", "testing", "x", 1)] },
            Node("zz-job", tier: 0, classes: ["pci"]) with { Suites = [new ValidationSuite("zz-suite", "testing", "y", 1)] },
        };
        var bigger = new GraphSnapshot(2, nodes.Concat(extra), edges.Append(new GraphEdge("aa-public-site", "zz-job", "calls")));
        var after = ImpactReachability.Assess(bigger, [target], Now);

        Assert.Equal(JsonSerializer.Serialize(before with { GraphVersion = 0 }, ContractJson.Options),
            JsonSerializer.Serialize(after with { GraphVersion = 0 }, ContractJson.Options));
    }

    private static List<GraphEdge> DemoEdges()
    {
        var seed = JsonSerializer.Deserialize<ControlPlane.SystemGraph.Seed.GraphSeed>(
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Seed", "demo-graph.json")), ContractJson.Options)!;
        return [.. seed.Edges!.Select(e => GraphValidation.ToEdge(e, new Dictionary<string, string[]>())!)];
    }
}
