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
        var known = new List<int>(targetIds.Count);
        foreach (var id in targetIds)
        {
            if (graph.TryGetIndex(id, out var index))
            {
                known.Add(index);
            }
            else
            {
                unknown.Add(id);
            }
        }

        var walk = ImpactWalk.Run(graph, known);
        var touched = Touched.Of(graph, walk);
        var dataClasses = touched.DataClassNames(graph);
        return new ImpactReport(
            graph.Version,
            targetIds,
            new ImpactedNodes(graph, walk),
            touched.HighestTier,
            dataClasses,
            touched.Revenue.Count > 0,
            touched.Exposed.Count > 0,
            touched.TeamNames(graph),
            unknown,
            Reasons(graph, walk, unknown, touched, dataClasses),
            assessedAt);
    }

    private static List<string> Reasons(GraphSnapshot graph, ImpactWalk walk, List<string> unknown, Touched touched, List<string> dataClasses)
    {
        var reasons = new List<string>();
        foreach (var u in unknown)
        {
            reasons.Add($"unknown target '{u}' is not in graph version {graph.Version}");
        }

        foreach (var position in touched.Revenue.Listed)
        {
            reasons.Add(walk.IsTarget(position)
                ? $"touches revenue path: {graph[walk.NodeAt(position)].Id} is a target"
                : $"touches revenue path via {DependencyChain(walk.PathFromTarget(graph, position))}");
        }

        if (touched.Revenue.Count > ListedPerReason)
        {
            reasons.Add($"touches revenue path via {touched.Revenue.Count - ListedPerReason} more nodes");
        }

        var sensitive = SensitiveOrder.Where(dataClasses.Contains)
            .Concat(dataClasses.Where(c => c != PublicClass && !SensitiveOrder.Contains(c)));
        foreach (var dataClass in sensitive)
        {
            reasons.Add($"{dataClass} data: {Names(graph, walk, touched.WithClass(graph, dataClass))}");
        }

        foreach (var (tier, critical) in (ReadOnlySpan<(int, Tally)>)[(0, touched.Tier0), (1, touched.Tier1)])
        {
            if (critical.Count > 0)
            {
                reasons.Add($"tier-{tier} {(critical.Count == 1 ? "node" : "nodes")} affected: {Names(graph, walk, critical)}");
            }
        }

        if (touched.Exposed.Count > 0)
        {
            reasons.Add($"internet-exposed {(touched.Exposed.Count == 1 ? "node" : "nodes")} affected: {Names(graph, walk, touched.Exposed)}");
        }

        reasons.Add(walk.DependentCount switch
        {
            0 => "no transitive dependents",
            1 => "1 transitive dependent",
            _ => string.Create(CultureInfo.InvariantCulture, $"{walk.DependentCount} transitive dependents"),
        });
        return reasons;
    }

    /// <summary>"checkout → billing": read as "checkout depends on billing", from the dependent down to the target.</summary>
    private static string DependencyChain(IReadOnlyList<string> pathFromTarget) => string.Join(" → ", pathFromTarget.Reverse());

    private static string Names(GraphSnapshot graph, ImpactWalk walk, Tally tally)
    {
        var listed = string.Join(", ", tally.Listed.Select(p => graph[walk.NodeAt(p)].Id));
        return tally.Count > ListedPerReason ? $"{listed} and {tally.Count - ListedPerReason} more" : listed;
    }

    /// <summary>How many touched nodes share a trait, and the first <see cref="ListedPerReason"/> of them in touched order.</summary>
    private sealed class Tally
    {
        private readonly List<int> _listed = new(ListedPerReason);

        public int Count { get; private set; }

        public IReadOnlyList<int> Listed => _listed;

        public void Add(int position)
        {
            if (Count++ < ListedPerReason)
            {
                _listed.Add(position);
            }
        }
    }

    /// <summary>
    /// The traits of every touched node (the known targets in the order given, then the dependents in report order),
    /// gathered in one pass over the walk from the snapshot's per-node ids: no strings are compared per node.
    /// </summary>
    private sealed class Touched
    {
        private readonly bool[] _teams;
        private readonly Tally?[] _classes;

        private Touched(GraphSnapshot graph)
        {
            _teams = new bool[graph.Teams.Count];
            _classes = new Tally?[graph.DataClasses.Count];
        }

        public int? HighestTier { get; private set; }

        public Tally Revenue { get; } = new();

        public Tally Exposed { get; } = new();

        public Tally Tier0 { get; } = new();

        public Tally Tier1 { get; } = new();

        public static Touched Of(GraphSnapshot graph, ImpactWalk walk)
        {
            var touched = new Touched(graph);
            var highest = int.MaxValue;
            for (var position = 0; position < walk.TouchedCount; position++)
            {
                var index = walk.NodeAt(position);
                var node = graph[index];
                highest = Math.Min(highest, node.CriticalityTier);
                touched._teams[graph.TeamOf(index)] = true;
                foreach (var dataClass in graph.DataClassesOf(index))
                {
                    (touched._classes[dataClass] ??= new Tally()).Add(position);
                }

                if (node.RevenuePath)
                {
                    touched.Revenue.Add(position);
                }

                if (node.InternetExposed)
                {
                    touched.Exposed.Add(position);
                }

                if (node.CriticalityTier == 0)
                {
                    touched.Tier0.Add(position);
                }
                else if (node.CriticalityTier == 1)
                {
                    touched.Tier1.Add(position);
                }
            }

            touched.HighestTier = walk.TouchedCount == 0 ? null : highest;
            return touched;
        }

        public List<string> DataClassNames(GraphSnapshot graph) => Present(graph.DataClasses, i => _classes[i] is not null);

        public List<string> TeamNames(GraphSnapshot graph) => Present(graph.Teams, i => _teams[i]);

        public Tally WithClass(GraphSnapshot graph, string dataClass)
        {
            for (var i = 0; i < _classes.Length; i++)
            {
                if (_classes[i] is { } tally && graph.DataClasses[i] == dataClass)
                {
                    return tally;
                }
            }

            return new Tally();
        }

        // Ids are ranks in ordinal order, so reading them in id order yields the names sorted.
        private static List<string> Present(IReadOnlyList<string> names, Func<int, bool> present)
        {
            var list = new List<string>();
            for (var i = 0; i < names.Count; i++)
            {
                if (present(i))
                {
                    list.Add(names[i]);
                }
            }

            return list;
        }
    }

    /// <summary>
    /// The report's dependents, each made when first read from the walk the report keeps (node, depth, parent): a
    /// caller that only counts or aggregates them does not pay for thousands of records and paths.
    /// </summary>
    private sealed class ImpactedNodes(GraphSnapshot graph, ImpactWalk walk) : IReadOnlyList<ImpactedNode>
    {
        private ImpactedNode?[]? _made;

        public int Count => walk.DependentCount;

        public ImpactedNode this[int index]
        {
            get
            {
                ArgumentOutOfRangeException.ThrowIfNegative(index);
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
                var made = _made ?? Interlocked.CompareExchange(ref _made, new ImpactedNode?[Count], null) ?? _made;
                if (made[index] is { } existing)
                {
                    return existing;
                }

                var position = walk.TargetCount + index;
                var node = graph[walk.NodeAt(position)];
                var created = new ImpactedNode(node.Id, walk.DepthAt(position), walk.PathFromTarget(graph, position),
                    node.CriticalityTier, node.Team, node.RevenuePath, node.DataClasses, node.InternetExposed);
                return Interlocked.CompareExchange(ref made[index], created, null) ?? created;
            }
        }

        public IEnumerator<ImpactedNode> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
