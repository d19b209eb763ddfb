using System.Buffers;
using System.Globalization;
using ControlPlane.Contracts;

namespace ControlPlane.SystemGraph.Graph;

/// <summary>
/// The blast radius of a change: every node that depends on a target directly or transitively, found by walking
/// "depends on" edges backwards breadth-first from all targets at once. Each dependent gets its distance to the
/// nearest target and one shortest path (target first, dependent last); a node is visited once, so cycles end.
/// Pure: no I/O, the snapshot is immutable.
/// </summary>
public static class ImpactAnalyzer
{
    /// <summary>How many nodes a reason names before it says "and N more".</summary>
    public const int ListedPerReason = 5;

    // Data classes in the order a reader should see them; "public" is not a risk and gets no reason.
    private static readonly string[] SensitiveOrder = ["regulated", "pci", "pii"];
    private const string PublicClass = "public";

    public static ImpactReport Assess(GraphSnapshot graph, IEnumerable<string> targets, DateTimeOffset assessedAt)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(targets);

        var targetIds = targets.Select(t => t.Trim()).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        var unknown = new List<string>();
        // Walk state is as large as the graph: rent it, so an assessment of a leaf does not allocate 3 × N ints.
        var depth = ArrayPool<int>.Shared.Rent(graph.NodeCount);
        var parent = ArrayPool<int>.Shared.Rent(graph.NodeCount);
        var queue = ArrayPool<int>.Shared.Rent(graph.NodeCount);
        int[] touchedIndexes;
        ImpactedNode[] dependents;
        int knownTargets;
        try
        {
            Array.Fill(depth, -1, 0, graph.NodeCount);
            int head = 0, tail = 0;
            foreach (var id in targetIds)
            {
                if (!graph.TryGetIndex(id, out var index))
                {
                    unknown.Add(id);
                    continue;
                }

                depth[index] = 0;
                parent[index] = -1;
                queue[tail++] = index;
            }

            knownTargets = tail;
            while (head < tail)
            {
                var current = queue[head++];
                foreach (var dependent in graph.DependentsOf(current))
                {
                    if (depth[dependent] < 0)
                    {
                        depth[dependent] = depth[current] + 1;
                        parent[dependent] = current;
                        queue[tail++] = dependent;
                    }
                }
            }

            // BFS order is already by depth; within one depth, order by id (index order is id order) so reports are
            // stable. Sorting (depth, index) packed in a long avoids a comparison delegate.
            var keys = new long[tail - knownTargets];
            for (var i = 0; i < keys.Length; i++)
            {
                var index = queue[knownTargets + i];
                keys[i] = ((long)depth[index] << 32) | (uint)index;
            }

            Array.Sort(keys);
            var dependentIndexes = Array.ConvertAll(keys, k => (int)(k & 0xFFFF_FFFF));

            dependents = new ImpactedNode[dependentIndexes.Length];
            for (var i = 0; i < dependentIndexes.Length; i++)
            {
                var index = dependentIndexes[i];
                var node = graph[index];
                dependents[i] = new ImpactedNode(node.Id, depth[index], PathFromTarget(graph, parent, depth[index], index),
                    node.CriticalityTier, node.Team, node.RevenuePath, node.DataClasses, node.InternetExposed);
            }

            // Touched: the known targets first, in the order given (the head of the queue), then every dependent.
            touchedIndexes = [.. queue.AsSpan(0, knownTargets), .. dependentIndexes];
        }
        finally
        {
            ArrayPool<int>.Shared.Return(depth);
            ArrayPool<int>.Shared.Return(parent);
            ArrayPool<int>.Shared.Return(queue);
        }

        var touched = new List<(GraphNode Node, IReadOnlyList<string>? Path)>(touchedIndexes.Length);
        for (var i = 0; i < touchedIndexes.Length; i++)
        {
            touched.Add((graph[touchedIndexes[i]], i < knownTargets ? null : dependents[i - knownTargets].Path));
        }

        int? highest = touched.Count == 0 ? null : touched.Min(t => t.Node.CriticalityTier);
        var dataClasses = touched.SelectMany(t => t.Node.DataClasses).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var teams = touched.Select(t => t.Node.Team).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

        return new ImpactReport(
            graph.Version,
            targetIds,
            dependents,
            highest,
            dataClasses,
            touched.Any(t => t.Node.RevenuePath),
            touched.Any(t => t.Node.InternetExposed),
            teams,
            unknown,
            Reasons(graph.Version, unknown, touched, dataClasses, dependents.Length),
            assessedAt);
    }

    private static string[] PathFromTarget(GraphSnapshot graph, int[] parent, int length, int index)
    {
        var path = new string[length + 1];
        for (var i = length; i >= 0; i--)
        {
            path[i] = graph[index].Id;
            index = parent[index];
        }

        return path;
    }

    private static List<string> Reasons(long version, List<string> unknown, List<(GraphNode Node, IReadOnlyList<string>? Path)> touched,
        List<string> dataClasses, int dependentCount)
    {
        var reasons = new List<string>();
        reasons.AddRange(unknown.Select(u => $"unknown target '{u}' is not in graph version {version}"));

        var revenue = touched.Where(t => t.Node.RevenuePath).ToList();
        reasons.AddRange(revenue.Take(ListedPerReason).Select(t => t.Path is null
            ? $"touches revenue path: {t.Node.Id} is a target"
            : $"touches revenue path via {DependencyChain(t.Path)}"));
        if (revenue.Count > ListedPerReason)
        {
            reasons.Add($"touches revenue path via {revenue.Count - ListedPerReason} more nodes");
        }

        var sensitive = SensitiveOrder.Where(dataClasses.Contains)
            .Concat(dataClasses.Where(c => c != PublicClass && !SensitiveOrder.Contains(c)));
        foreach (var dataClass in sensitive)
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

        reasons.Add(dependentCount switch
        {
            0 => "no transitive dependents",
            1 => "1 transitive dependent",
            _ => string.Create(CultureInfo.InvariantCulture, $"{dependentCount} transitive dependents"),
        });
        return reasons;
    }

    /// <summary>"checkout → billing": read as "checkout depends on billing", from the dependent down to the target.</summary>
    private static string DependencyChain(IReadOnlyList<string> pathFromTarget) => string.Join(" → ", pathFromTarget.Reverse());

    private static string Names(IEnumerable<(GraphNode Node, IReadOnlyList<string>? Path)> nodes)
    {
        var all = nodes.Select(n => n.Node.Id).ToList();
        var listed = string.Join(", ", all.Take(ListedPerReason));
        return all.Count > ListedPerReason ? $"{listed} and {all.Count - ListedPerReason} more" : listed;
    }
}
