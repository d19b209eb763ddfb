using BenchmarkDotNet.Attributes;
using ControlPlane.Contracts;
using ControlPlane.SystemGraph.Graph;

namespace ControlPlane.Benchmarks.Graph;

/// <summary>
/// Blast radius on a 10k-node graph: 10 layers of 1,000 nodes, each depending on 3 nodes of the layer below, plus
/// 1% edges pointing back up (cycles). Every layer-1 node also depends on one hub (node 0), whose blast radius is
/// therefore the whole graph above it: the worst case. A top-layer target reaches nothing.
/// </summary>
[MemoryDiagnoser]
public class ImpactBenchmarks
{
    private const int Layers = 10;
    private const int PerLayer = 1_000;
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;

    private GraphNode[] _nodes = null!;
    private GraphEdge[] _edges = null!;
    private GraphSnapshot _graph = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        string[][] classes = [["public"], ["pii"], ["regulated", "pci"], []];
        _nodes = [.. Enumerable.Range(0, Layers * PerLayer).Select(i => new GraphNode(
            Id(i), "service", Id(i), $"team-{i % 40}", random.Next(4), random.Next(100) < 5, classes[random.Next(classes.Length)], random.Next(100) < 2))];
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
        _graph = new GraphSnapshot(1, _nodes, _edges);
        Console.WriteLine($"// graph: {_graph.NodeCount} nodes, {_graph.EdgeCount} edges; hub reaches {Hub().Dependents.Count} dependents, bottom-layer {WideBlastRadius().Dependents.Count}, mid-layer {MidLayer().Dependents.Count}");
    }

    private static string Id(int index) => $"node-{index:D5}";

    [Benchmark(Description = "Assess the hub (worst case: every node above depends on it)")]
    public ImpactReport Hub() => ImpactAnalyzer.Assess(_graph, [Id(0)], Now);

    [Benchmark(Description = "Assess a bottom-layer target")]
    public ImpactReport WideBlastRadius() => ImpactAnalyzer.Assess(_graph, [Id(17)], Now);

    [Benchmark(Description = "Assess a mid-layer target")]
    public ImpactReport MidLayer() => ImpactAnalyzer.Assess(_graph, [Id(5 * PerLayer + 17)], Now);

    [Benchmark(Description = "Assess a top-layer target (no dependents)")]
    public ImpactReport Leaf() => ImpactAnalyzer.Assess(_graph, [Id(Layers * PerLayer - 1)], Now);

    [Benchmark(Description = "Build the 10k-node snapshot (once per graph version)")]
    public GraphSnapshot BuildSnapshot() => new(2, _nodes, _edges);
}
