using BenchmarkDotNet.Attributes;
using ControlPlane.Contracts;
using ControlPlane.SystemGraph.Graph;

namespace ControlPlane.Benchmarks.Graph;

/// <summary>
/// Blast radius on the generated graphs (see <see cref="LayeredGraph"/>): the hub, a bottom-layer, a mid-layer and a
/// top-layer target. The report's dependents are made when read; "and read every dependent" also makes each record and
/// its path, as serializing the report for the bus does. The anchor is <see cref="ImpactCteBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
public class ImpactBenchmarks
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;
    private LayeredGraph _graph = null!;

    [Params("10k", "100k")]
    public string Graph { get; set; } = "10k";

    [GlobalSetup]
    public void Setup()
    {
        _graph = LayeredGraph.Create(Graph);
        Console.WriteLine($"// graph {Graph}: {_graph.Snapshot.NodeCount} nodes, {_graph.Snapshot.EdgeCount} edges; dependents of hub {Hub().Dependents.Count}, " +
            $"bottom {Bottom().Dependents.Count}, mid {Mid().Dependents.Count}, leaf {Leaf().Dependents.Count}");
    }

    [Benchmark(Description = "hub")]
    public ImpactReport Hub() => ImpactAnalyzer.Assess(_graph.Snapshot, [_graph.Hub], Now);

    [Benchmark(Description = "hub, read every dependent")]
    public int HubRead() => ReadAll(Hub());

    [Benchmark(Description = "bottom-layer")]
    public ImpactReport Bottom() => ImpactAnalyzer.Assess(_graph.Snapshot, [_graph.Bottom], Now);

    [Benchmark(Description = "bottom-layer, read every dependent")]
    public int BottomRead() => ReadAll(Bottom());

    [Benchmark(Description = "mid-layer")]
    public ImpactReport Mid() => ImpactAnalyzer.Assess(_graph.Snapshot, [_graph.Mid], Now);

    [Benchmark(Description = "leaf")]
    public ImpactReport Leaf() => ImpactAnalyzer.Assess(_graph.Snapshot, [_graph.Leaf], Now);

    [Benchmark(Description = "build the snapshot (once per graph version)")]
    public GraphSnapshot BuildSnapshot() => new(2, _graph.Nodes, _graph.Edges);

    internal static int ReadAll(ImpactReport report)
    {
        var length = 0;
        foreach (var dependent in report.Dependents)
        {
            length += dependent.Path.Count;
        }

        return length;
    }
}
