using System.Diagnostics;
using System.Globalization;
using ControlPlane.SystemGraph.Graph;

namespace ControlPlane.Benchmarks.Graph;

/// <summary>
/// Per-call latency of the blast radius (BenchmarkDotNet reports means of batches, not a p99): times each of many
/// assessments alone and prints p50 / p99 / max. Run with: dotnet run -c Release --project tests/ControlPlane.Benchmarks -- latency
/// </summary>
internal static class ImpactLatency
{
    // Each case runs for about this long (at least MinCalls, at most MaxCalls calls), so the 100k hub stays short.
    private static readonly TimeSpan PerCase = TimeSpan.FromSeconds(2);
    private const int MinCalls = 200;
    private const int MaxCalls = 20_000;

    public static void Run()
    {
        foreach (var name in new[] { "10k", "100k" })
        {
            var graph = LayeredGraph.Create(name);
            foreach (var (label, target) in new[] { ("hub", graph.Hub), ("bottom-layer", graph.Bottom), ("mid-layer", graph.Mid), ("leaf", graph.Leaf) })
            {
                var dependents = ImpactAnalyzer.Assess(graph.Snapshot, [target], DateTimeOffset.UnixEpoch).Dependents.Count;
                Print(name, label, dependents, "assess", Time(() => ImpactAnalyzer.Assess(graph.Snapshot, [target], DateTimeOffset.UnixEpoch)));
                Print(name, label, dependents, "assess, read every dependent",
                    Time(() => ImpactBenchmarks.ReadAll(ImpactAnalyzer.Assess(graph.Snapshot, [target], DateTimeOffset.UnixEpoch))));
            }
        }
    }

    private static double[] Time(Action call)
    {
        for (var i = 0; i < 20; i++)
        {
            call();
        }

        var micros = new List<double>();
        var began = Stopwatch.GetTimestamp();
        while (micros.Count < MaxCalls && (micros.Count < MinCalls || Stopwatch.GetElapsedTime(began) < PerCase))
        {
            var start = Stopwatch.GetTimestamp();
            call();
            micros.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }

        micros.Sort();
        return [.. micros];
    }

    private static void Print(string graph, string target, int dependents, string what, double[] sorted) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"latency graph={graph} target={target} dependents={dependents} {what}: p50 {sorted[sorted.Length / 2]:F1} us, p99 {sorted[(int)(sorted.Length * 0.99)]:F1} us, max {sorted[^1]:F1} us ({sorted.Length} calls)"));
}
