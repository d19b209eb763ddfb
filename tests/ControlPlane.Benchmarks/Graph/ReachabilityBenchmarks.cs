using BenchmarkDotNet.Attributes;
using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using ControlPlane.Policy.Validation;
using ControlPlane.SystemGraph.Graph;

namespace ControlPlane.Benchmarks.Graph;

/// <summary>
/// Reachability and validation plans on the impact benchmark's shape at 10k and 100k nodes: layers of 1,000 nodes
/// (10 at 10k, 100 at 100k), each depending on 3 nodes of the layer below, 1% edges back up, every layer-1 node on
/// the hub (node 0). 2% of the top layer's nodes are entries (internet-exposed), every node declares a validation
/// suite and every tenth a verify suite too. Measured next to the impact traversal they extend: reachability once
/// per graph version, the reachable impact of a mid-layer target and of the hub, and the plan the default bundle
/// derives from them.
/// </summary>
[MemoryDiagnoser]
public class ReachabilityBenchmarks
{
    private const int PerLayer = 1_000;
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;

    private GraphEdge[] _edges = null!;
    private GraphSnapshot _graph = null!;
    private ImpactReport _midReport = null!;
    private ImpactReport _hubReport = null!;
    private IReadOnlyList<(string, ValidationPlanRule)> _planRules = null!;
    private CompiledPolicy _policy = null!;

    [Params(10_000, 100_000)]
    public int Nodes { get; set; }

    private int Layers => Nodes / PerLayer;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        string[][] classes = [["public"], ["pii"], ["regulated", "pci"], []];
        var nodes = Enumerable.Range(0, Nodes).Select(i => new GraphNode(
            Id(i), "service", Id(i), $"team-{i % 40}", random.Next(4), random.Next(100) < 5, classes[random.Next(classes.Length)],
            i >= (Layers - 1) * PerLayer && random.Next(100) < 2,
            i % 10 == 0
                ? [new ValidationSuite($"s-{i}", "testing", "contract", 60), new ValidationSuite($"v-{i}", "testing", "verify", 30, "verify")]
                : [new ValidationSuite($"s-{i}", "testing", "contract", 60)])).ToArray();
        var edges = new HashSet<GraphEdge>();
        for (var layer = 1; layer < Layers; layer++)
        {
            for (var i = 0; i < PerLayer; i++)
            {
                for (var k = 0; k < 3; k++)
                {
                    edges.Add(new GraphEdge(Id(layer * PerLayer + i), Id((layer - 1) * PerLayer + random.Next(PerLayer)), "calls"));
                }

                if (layer == 1)
                {
                    edges.Add(new GraphEdge(Id(layer * PerLayer + i), Id(0), "calls"));
                }

                if (random.Next(100) == 0 && layer < Layers - 1)
                {
                    edges.Add(new GraphEdge(Id(layer * PerLayer + i), Id((layer + 1) * PerLayer + random.Next(PerLayer)), "reads"));
                }
            }
        }

        _edges = [.. edges];
        _graph = new GraphSnapshot(1, nodes, _edges);
        _midReport = ImpactReachability.Assess(_graph, [Id((Layers / 2 * PerLayer) + 17)], Now);
        _hubReport = ImpactReachability.Assess(_graph, [Id(0)], Now);
        _policy = new CompiledPolicy(BundleParser.Parse(DefaultBundle.Yaml).Bundle!, "1");
        _planRules = [.. _policy.Bundle.Rules.Where(r => r.Plan is not null).Select(r => (r.Id, r.Plan!))];
        Console.WriteLine($"// graph: {_graph.NodeCount} nodes, {_graph.EdgeCount} edges; {_graph.Reachability.ReachableCount} reachable from "
            + $"{_graph.Reachability.Entries.Count} entries; mid-layer target: {_midReport.Dependents.Count} dependents, hub: {_hubReport.Dependents.Count}; "
            + $"plans: mid {ValidationPlanner.Plan(_midReport, _planRules)!.Suites.Count} suites, hub {ValidationPlanner.Plan(_hubReport, _planRules)!.Suites.Count}");
    }

    private static string Id(int index) => $"node-{index:D6}";

    [Benchmark(Description = "Reachability of the whole graph (once per graph version)")]
    public GraphReachability Reachability() => GraphReachability.Compute(_graph, _edges);

    [Benchmark(Description = "Impact traversal, mid-layer target (no reachability)")]
    public ImpactReport ImpactMid() => ImpactAnalyzer.Assess(_graph, [Id((Layers / 2 * PerLayer) + 17)], Now);

    [Benchmark(Description = "Reachable impact, mid-layer target (traversal + reachability pass)")]
    public ImpactReport ReachableImpactMid() => ImpactReachability.Assess(_graph, [Id((Layers / 2 * PerLayer) + 17)], Now);

    [Benchmark(Description = "Impact traversal, hub (every node above depends on it)")]
    public ImpactReport ImpactHub() => ImpactAnalyzer.Assess(_graph, [Id(0)], Now);

    [Benchmark(Description = "Reachable impact, hub")]
    public ImpactReport ReachableImpactHub() => ImpactReachability.Assess(_graph, [Id(0)], Now);

    [Benchmark(Description = "Validation plan (default bundle's plan rules), mid-layer target")]
    public ValidationPlan? PlanMid() => ValidationPlanner.Plan(_midReport, _planRules);

    [Benchmark(Description = "Validation plan (default bundle's plan rules), hub")]
    public ValidationPlan? PlanHub() => ValidationPlanner.Plan(_hubReport, _planRules);

    [Benchmark(Description = "Whole production decision with plan (default bundle), hub")]
    public PolicyDecision DecideHub() => PolicyEvaluator.Decide(_policy, PolicyFacts.From("deploy", "production", "agent", true, _hubReport), Now);
}
