using System.Globalization;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.SystemGraph.Graph;

namespace ControlPlane.SystemGraph.Tests.Graph;

/// <summary>
/// The analyzer walks compact arrays with reused buffers and makes dependents when read; these tests hold it to a
/// plain reference (a dictionary BFS with lists and LINQ, the analyzer's earlier shape) on random graphs: the whole
/// report, serialized, must be the same.
/// </summary>
public sealed class ImpactAnalyzerPropertyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private static readonly string[] Classes = ["public", "pii", "pci", "regulated", "secret", "audit"];

    [Theory]
    [InlineData(1, 400, 2, 40)]
    [InlineData(2, 200, 20, 300)]
    [InlineData(3, 30, 500, 3_000)]
    public void Reports_equal_a_reference_bfs_on_random_graphs(int seed, int graphs, int minNodes, int maxNodes)
    {
        var random = new Random(seed);
        for (var g = 0; g < graphs; g++)
        {
            var (nodes, edges) = RandomGraph(random, random.Next(minNodes, maxNodes + 1));
            var snapshot = new GraphSnapshot(g + 1, nodes, edges);
            // The same snapshot several times: the walk's reused state must not leak from one assessment to the next.
            for (var t = 0; t < 3; t++)
            {
                var targets = RandomTargets(random, nodes);
                var expected = Reference(g + 1, nodes, edges, targets);
                var actual = ImpactAnalyzer.Assess(snapshot, targets, Now);

                Assert.Equal(Json(expected), Json(actual));
                Assert.Equal(expected.Dependents.Count, actual.Dependents.Count);
                if (actual.Dependents.Count > 0)
                {
                    var last = actual.Dependents.Count - 1;
                    Assert.Same(actual.Dependents[last], actual.Dependents[last]);
                    Assert.Equal(expected.Dependents[last].Path, actual.Dependents[last].Path);
                }
            }
        }
    }

    [Fact]
    public void Reports_on_a_blast_radius_of_tens_of_thousands_equal_the_reference()
    {
        // Every node depends on three earlier ones, so the first reaches all: the walk's report arrays span several
        // chunks, and with over 100,000 edges the analyzer takes its walk for graphs past the caches (no branch on "seen").
        var random = new Random(5);
        var (nodes, randomEdges) = RandomGraph(random, 40_000);
        var edges = Enumerable.Range(1, nodes.Count - 1)
            .SelectMany(i => Enumerable.Range(0, 3).Select(_ => new GraphEdge(nodes[i].Id, nodes[random.Next(i)].Id, "calls")))
            .Concat(randomEdges).ToList();
        var snapshot = new GraphSnapshot(1, nodes, edges);
        Assert.True(snapshot.EdgeCount > 100_000, $"{snapshot.EdgeCount} edges");
        List<string>[] chosen = [[nodes[0].Id], [nodes[1].Id, nodes[0].Id], [nodes[300].Id], [nodes[39_000].Id], ["ghost", nodes[39_990].Id]];
        // Large finds and small ones one after another: each walk must leave the reused state clean for the next.
        foreach (var targets in chosen.Concat(Enumerable.Range(0, 6).Select(_ => RandomTargets(random, nodes))))
        {
            var actual = ImpactAnalyzer.Assess(snapshot, targets, Now);

            Assert.Equal(Json(Reference(1, nodes, edges, targets)), Json(actual));
        }

        Assert.True(ImpactAnalyzer.Assess(snapshot, [nodes[0].Id], Now).Dependents.Count > 35_000);
    }

    [Fact]
    public void Assessments_running_side_by_side_give_the_reports_of_one_at_a_time()
    {
        var random = new Random(4);
        var (nodes, edges) = RandomGraph(random, 2_000);
        var snapshot = new GraphSnapshot(1, nodes, edges);
        var targets = Enumerable.Range(0, 32).Select(_ => RandomTargets(random, nodes)).ToList();
        var expected = targets.Select(t => Json(ImpactAnalyzer.Assess(snapshot, t, Now))).ToList();

        var actual = new string[targets.Count * 8];
        Parallel.For(0, actual.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => actual[i] = Json(ImpactAnalyzer.Assess(snapshot, targets[i % targets.Count], Now)));

        for (var i = 0; i < actual.Length; i++)
        {
            Assert.Equal(expected[i % targets.Count], actual[i]);
        }
    }

    [Fact]
    public void Reading_dependents_out_of_range_fails_like_a_list()
    {
        var report = ImpactAnalyzer.Assess(GraphBuilder.Make("a->b"), ["b"], Now);

        Assert.Throws<ArgumentOutOfRangeException>(() => report.Dependents[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => report.Dependents[-1]);
    }

    private static string Json(ImpactReport report) => JsonSerializer.Serialize(report, ContractJson.Options);

    private static (List<GraphNode> Nodes, List<GraphEdge> Edges) RandomGraph(Random random, int count)
    {
        var nodes = Enumerable.Range(0, count).Select(i => new GraphNode(
                // Ids that do not sort like their numbers, so id order and creation order differ.
                $"n{(i * 7919) % (count * 3)}-{i}", "service", $"node {i}", $"team-{random.Next(5)}", random.Next(4), random.Next(10) == 0,
                [.. Classes.Where(_ => random.Next(5) == 0)], random.Next(12) == 0))
            .ToList();
        var edges = new List<GraphEdge>();
        var edgeCount = random.Next(count * 3);
        for (var e = 0; e < edgeCount; e++)
        {
            // Some self-loops and repeated pairs of another kind: the snapshot folds them.
            var from = nodes[random.Next(count)].Id;
            var to = random.Next(20) == 0 ? from : nodes[random.Next(count)].Id;
            edges.Add(new GraphEdge(from, to, random.Next(2) == 0 ? "calls" : "reads"));
        }

        return (nodes, edges);
    }

    private static List<string> RandomTargets(Random random, List<GraphNode> nodes)
    {
        var targets = new List<string>();
        var count = random.Next(4);
        for (var i = 0; i < count; i++)
        {
            targets.Add(random.Next(8) switch
            {
                0 => "ghost-" + random.Next(3).ToString(CultureInfo.InvariantCulture),
                1 => "  " + nodes[random.Next(nodes.Count)].Id + " ",
                _ => nodes[random.Next(nodes.Count)].Id,
            });
        }

        if (targets.Count > 0 && random.Next(4) == 0)
        {
            targets.Add(targets[0]);
        }

        return targets;
    }

    /// <summary>The report computed the plain way: dictionaries, lists, a queue of ids, LINQ for every fact and reason.</summary>
    private static ImpactReport Reference(long version, List<GraphNode> nodes, List<GraphEdge> edges, List<string> targets)
    {
        var byId = nodes.ToDictionary(n => n.Id, StringComparer.Ordinal);
        var dependentsOf = edges.GroupBy(e => e.To, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.From).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        var targetIds = targets.Select(t => t.Trim()).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        var unknown = targetIds.Where(t => !byId.ContainsKey(t)).ToList();
        var known = targetIds.Where(byId.ContainsKey).ToList();

        var paths = known.ToDictionary(t => t, t => new List<string> { t }, StringComparer.Ordinal);
        var queue = new Queue<string>(known);
        while (queue.Count > 0)
        {
            var current = queue.Dequeue();
            foreach (var dependent in dependentsOf.GetValueOrDefault(current) ?? [])
            {
                if (!paths.ContainsKey(dependent))
                {
                    paths[dependent] = [.. paths[current], dependent];
                    queue.Enqueue(dependent);
                }
            }
        }

        var dependents = paths.Where(p => !known.Contains(p.Key))
            .OrderBy(p => p.Value.Count).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => (Node: byId[p.Key], Path: p.Value))
            .Select(d => new ImpactedNode(d.Node.Id, d.Path.Count - 1, d.Path, d.Node.CriticalityTier, d.Node.Team, d.Node.RevenuePath, d.Node.DataClasses, d.Node.InternetExposed))
            .ToList();
        var touched = known.Select(t => (Node: byId[t], Path: (IReadOnlyList<string>?)null))
            .Concat(dependents.Select(d => (Node: byId[d.NodeId], Path: (IReadOnlyList<string>?)d.Path)))
            .ToList();
        var dataClasses = touched.SelectMany(t => t.Node.DataClasses).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

        var reasons = unknown.Select(u => $"unknown target '{u}' is not in graph version {version}").ToList();
        var revenue = touched.Where(t => t.Node.RevenuePath).ToList();
        reasons.AddRange(revenue.Take(5).Select(t => t.Path is null
            ? $"touches revenue path: {t.Node.Id} is a target"
            : $"touches revenue path via {string.Join(" → ", t.Path.Reverse())}"));
        if (revenue.Count > 5)
        {
            reasons.Add($"touches revenue path via {revenue.Count - 5} more nodes");
        }

        string[] sensitiveOrder = ["regulated", "pci", "pii"];
        foreach (var dataClass in sensitiveOrder.Where(dataClasses.Contains).Concat(dataClasses.Where(c => c != "public" && !sensitiveOrder.Contains(c))))
        {
            reasons.Add($"{dataClass} data: {Names(touched.Where(t => t.Node.DataClasses.Contains(dataClass)))}");
        }

        foreach (var tier in new[] { 0, 1 })
        {
            var critical = touched.Where(t => t.Node.CriticalityTier == tier).ToList();
            if (critical.Count > 0)
            {
                reasons.Add($"tier-{tier} {(critical.Count == 1 ? "node" : "nodes")} affected: {Names(critical)}");
            }
        }

        var exposed = touched.Where(t => t.Node.InternetExposed).ToList();
        if (exposed.Count > 0)
        {
            reasons.Add($"internet-exposed {(exposed.Count == 1 ? "node" : "nodes")} affected: {Names(exposed)}");
        }

        reasons.Add(dependents.Count switch
        {
            0 => "no transitive dependents",
            1 => "1 transitive dependent",
            _ => string.Create(CultureInfo.InvariantCulture, $"{dependents.Count} transitive dependents"),
        });

        return new ImpactReport(version, targetIds, dependents, touched.Count == 0 ? null : touched.Min(t => t.Node.CriticalityTier), dataClasses,
            touched.Any(t => t.Node.RevenuePath), touched.Any(t => t.Node.InternetExposed),
            [.. touched.Select(t => t.Node.Team).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)], unknown, reasons, Now);

        static string Names(IEnumerable<(GraphNode Node, IReadOnlyList<string>? Path)> touchedNodes)
        {
            var all = touchedNodes.Select(n => n.Node.Id).ToList();
            var listed = string.Join(", ", all.Take(5));
            return all.Count > 5 ? $"{listed} and {all.Count - 5} more" : listed;
        }
    }
}
