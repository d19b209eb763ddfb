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

        var targetIds = DistinctIds(targets);
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

    /// <summary>Trimmed, non-empty, first occurrence kept; proposals name few targets, so a set only past a handful.</summary>
    private static List<string> DistinctIds(IEnumerable<string> targets)
    {
        var ids = new List<string>();
        HashSet<string>? seen = null;
        foreach (var target in targets)
        {
            var id = target.Trim();
            var repeated = id.Length == 0 || (ids.Count < 8 ? ids.Contains(id) : !(seen ??= new HashSet<string>(ids, StringComparer.Ordinal)).Add(id));
            if (!repeated)
            {
                ids.Add(id);
            }
        }

        return ids;
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
    private static string DependencyChain(string[] pathFromTarget)
    {
        Array.Reverse(pathFromTarget);
        return string.Join(" → ", pathFromTarget);
    }

    private static string Names(GraphSnapshot graph, ImpactWalk walk, Tally tally)
    {
        var names = new string[tally.Listed.Length];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = graph[walk.NodeAt(tally.Listed[i])].Id;
        }

        var listed = string.Join(", ", names);
        return tally.Count > ListedPerReason ? $"{listed} and {tally.Count - ListedPerReason} more" : listed;
    }

    /// <summary>How many touched nodes share a trait, and the first <see cref="ListedPerReason"/> of them in touched order.</summary>
    private readonly struct Tally(int[] listed, int offset, int count)
    {
        public int Count => count;

        public ReadOnlySpan<int> Listed => count == 0 ? [] : listed.AsSpan(offset, Math.Min(count, ListedPerReason));
    }

    /// <summary>
    /// The traits of every touched node (the known targets in the order given, then the dependents in report order). One
    /// pass counts each node's traits id and team (no branch on a node's attributes, no node record read); the few
    /// distinct traits then give every count, and a second pass lists the first nodes of each trait, stopping as soon
    /// as every trait has its <see cref="ListedPerReason"/>.
    /// </summary>
    private sealed class Touched
    {
        private const int RevenueTrait = 0, ExposedTrait = 1, Tier0Trait = 2, Tier1Trait = 3, FirstClass = 4;

        private readonly bool[] _teams;
        private readonly int[] _count;
        private readonly int[] _listed;
        private readonly int[] _listedCount;

        private Touched(GraphSnapshot graph)
        {
            _teams = new bool[graph.Teams.Count];
            _count = new int[FirstClass + graph.DataClasses.Count];
            _listedCount = new int[_count.Length];
            _listed = new int[_count.Length * ListedPerReason];
        }

        public int? HighestTier { get; private set; }

        public Tally Revenue => Of(RevenueTrait);

        public Tally Exposed => Of(ExposedTrait);

        public Tally Tier0 => Of(Tier0Trait);

        public Tally Tier1 => Of(Tier1Trait);

        public static Touched Of(GraphSnapshot graph, ImpactWalk walk)
        {
            var touched = new Touched(graph);
            var teams = touched._teams;
            var facts = graph.Facts;
            var nodes = walk.Nodes;
            var perTraits = new int[graph.Traits.Count];
            foreach (var index in nodes)
            {
                var node = facts[index];
                perTraits[node.Traits]++;
                teams[node.Team] = true;
            }

            var highest = int.MaxValue;
            for (var id = 0; id < perTraits.Length; id++)
            {
                if (perTraits[id] > 0)
                {
                    highest = Math.Min(highest, graph.Traits[id].Tier);
                    touched.Visit(graph.Traits[id], perTraits[id], -1);
                }
            }

            var unlisted = 0;
            foreach (var count in touched._count)
            {
                unlisted += Math.Min(count, ListedPerReason);
            }

            for (var position = 0; unlisted > 0; position++)
            {
                unlisted -= touched.Visit(graph.Traits[facts[nodes[position]].Traits], 0, position);
            }

            touched.HighestTier = nodes.Length == 0 ? null : highest;
            return touched;
        }

        /// <summary>Counts <paramref name="count"/> nodes with these traits, or lists the one at <paramref name="position"/> where a trait still lists fewer than it may; returns how many it listed.</summary>
        private int Visit(NodeTraits traits, int count, int position)
        {
            var listed = 0;
            foreach (var dataClass in traits.DataClasses)
            {
                listed += Visit(FirstClass + dataClass, count, position);
            }

            if (traits.RevenuePath)
            {
                listed += Visit(RevenueTrait, count, position);
            }

            if (traits.InternetExposed)
            {
                listed += Visit(ExposedTrait, count, position);
            }

            if (traits.Tier is 0 or 1)
            {
                listed += Visit(traits.Tier == 0 ? Tier0Trait : Tier1Trait, count, position);
            }

            return listed;
        }

        private int Visit(int trait, int count, int position)
        {
            if (position < 0)
            {
                _count[trait] += count;
                return 0;
            }

            var listed = _listedCount[trait];
            if (listed >= Math.Min(_count[trait], ListedPerReason))
            {
                return 0;
            }

            _listed[(trait * ListedPerReason) + listed] = position;
            _listedCount[trait] = listed + 1;
            return 1;
        }

        public List<string> DataClassNames(GraphSnapshot graph) => Present(graph.DataClasses, i => _count[FirstClass + i] > 0);

        public List<string> TeamNames(GraphSnapshot graph) => Present(graph.Teams, i => _teams[i]);

        public Tally WithClass(GraphSnapshot graph, string dataClass)
        {
            for (var i = 0; i < graph.DataClasses.Count; i++)
            {
                if (graph.DataClasses[i] == dataClass)
                {
                    return Of(FirstClass + i);
                }
            }

            return default;
        }

        private Tally Of(int category) => new(_listed, category * ListedPerReason, _count[category]);

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
                var made = _made ?? Made();
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

        // The first read: a reader of one dependent often reads them all, so resolve every path's parents in one pass.
        private ImpactedNode?[] Made()
        {
            walk.ResolveParents(graph.NodeCount);
            return Interlocked.CompareExchange(ref _made, new ImpactedNode?[Count], null) ?? _made;
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
