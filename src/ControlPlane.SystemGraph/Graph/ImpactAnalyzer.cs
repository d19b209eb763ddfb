using System.Globalization;
using System.Runtime.CompilerServices;
using ControlPlane.Contracts;

namespace ControlPlane.SystemGraph.Graph;

/// <summary>
/// The blast radius of a change: every node that depends on a target directly or transitively, found by walking
/// "depends on" edges backwards breadth-first from all targets at once. Each dependent gets its distance to the
/// nearest target and one shortest path (target first, dependent last); a node is visited once, so cycles end.
/// Pure: no I/O, the snapshot is immutable.
/// </summary>
public static partial class ImpactAnalyzer
{
    /// <summary>How many nodes a reason names before it says "and N more".</summary>
    public const int ListedPerReason = 5;

    // Data classes in the order a reader should see them; "public" is not a risk and gets no reason.
    private static readonly string[] SensitiveOrder = ["regulated", "pci", "pii"];
    private const string PublicClass = "public";

    [ThreadStatic]
    private static char[]? t_reasonBuffer;

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

        var touched = new Touched(graph);
        var perTraits = graph.Traits.Count <= 256 ? stackalloc int[graph.Traits.Count] : new int[graph.Traits.Count];
        var walk = ImpactWalk.Run(graph, known, perTraits, touched.Teams);
        touched.Tally(graph, walk, perTraits);
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

    // Each reason is written once into a stack buffer and made a string at the end: no path or name arrays, no joins.
    private static List<string> Reasons(GraphSnapshot graph, ImpactWalk walk, List<string> unknown, Touched touched, string[] dataClasses)
    {
        // At most: the unknown targets, the listed revenue paths and their "more", one per data class, tiers 0 and 1,
        // exposure and the count.
        var reasons = new List<string>(unknown.Count + ListedPerReason + dataClasses.Length + 5);
        foreach (var u in unknown)
        {
            reasons.Add($"unknown target '{u}' is not in graph version {graph.Version}");
        }

        // Reused per thread rather than a stackalloc, which the runtime zeroes on every call.
        Span<char> buffer = t_reasonBuffer ??= new char[512];
        foreach (var position in touched.Revenue.Listed)
        {
            var text = new DefaultInterpolatedStringHandler(0, 0, null, buffer);
            if (walk.IsTarget(position))
            {
                text.AppendLiteral("touches revenue path: ");
                text.AppendFormatted(graph[walk.NodeAt(position)].Id);
                text.AppendLiteral(" is a target");
            }
            else
            {
                text.AppendLiteral("touches revenue path via ");
                AppendDependencyChain(ref text, graph, walk, position);
            }

            reasons.Add(text.ToStringAndClear());
        }

        if (touched.Revenue.Count > ListedPerReason)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture, buffer, $"touches revenue path via {touched.Revenue.Count - ListedPerReason} more nodes"));
        }

        foreach (var dataClass in graph.ClassReasonOrder)
        {
            if (touched.WithClass(dataClass).Count > 0)
            {
                reasons.Add(DataClassReason(graph, walk, touched.WithClass(dataClass), graph.DataClasses[dataClass], buffer));
            }
        }

        AddCountedReason(reasons, "tier-0 ", " affected: ", graph, walk, touched.Tier0, buffer);
        AddCountedReason(reasons, "tier-1 ", " affected: ", graph, walk, touched.Tier1, buffer);
        AddCountedReason(reasons, "internet-exposed ", " affected: ", graph, walk, touched.Exposed, buffer);
        reasons.Add(walk.DependentCount switch
        {
            0 => "no transitive dependents",
            1 => "1 transitive dependent",
            _ => string.Create(CultureInfo.InvariantCulture, buffer, $"{walk.DependentCount} transitive dependents"),
        });
        return reasons;
    }

    /// <summary>
    /// Data-class ids in the order their reasons come: the sensitive classes in <see cref="SensitiveOrder"/>, then the
    /// others in ordinal order; "public" has none. Once per graph version.
    /// </summary>
    internal static int[] ClassReasonOrder(IReadOnlyList<string> dataClasses)
    {
        var ids = Enumerable.Range(0, dataClasses.Count);
        return [.. SensitiveOrder.Select(c => ids.FirstOrDefault(i => dataClasses[i] == c, -1)).Where(i => i >= 0),
            .. ids.Where(i => dataClasses[i] != PublicClass && !SensitiveOrder.Contains(dataClasses[i]))];
    }

    private static string DataClassReason(GraphSnapshot graph, ImpactWalk walk, Tally tally, string dataClass, Span<char> buffer)
    {
        var text = new DefaultInterpolatedStringHandler(0, 0, null, buffer);
        text.AppendFormatted(dataClass);
        text.AppendLiteral(" data: ");
        AppendNames(ref text, graph, walk, tally);
        return text.ToStringAndClear();
    }

    /// <summary>"{prefix}node{infix}a" or "{prefix}nodes{infix}a, b", if any node has the trait.</summary>
    private static void AddCountedReason(List<string> reasons, string prefix, string infix, GraphSnapshot graph, ImpactWalk walk, Tally tally, Span<char> buffer)
    {
        if (tally.Count == 0)
        {
            return;
        }

        var text = new DefaultInterpolatedStringHandler(0, 0, null, buffer);
        text.AppendLiteral(prefix);
        text.AppendLiteral(tally.Count == 1 ? "node" : "nodes");
        text.AppendLiteral(infix);
        AppendNames(ref text, graph, walk, tally);
        reasons.Add(text.ToStringAndClear());
    }

    /// <summary>"checkout → billing": read as "checkout depends on billing", from the dependent down to the target (parent by parent).</summary>
    private static void AppendDependencyChain(ref DefaultInterpolatedStringHandler text, GraphSnapshot graph, ImpactWalk walk, int position)
    {
        text.AppendFormatted(graph[walk.NodeAt(position)].Id);
        for (var depth = walk.DepthAt(position); depth > 0; depth--)
        {
            position = walk.ParentAt(position, depth);
            text.AppendLiteral(" → ");
            text.AppendFormatted(graph[walk.NodeAt(position)].Id);
        }
    }

    private static void AppendNames(ref DefaultInterpolatedStringHandler text, GraphSnapshot graph, ImpactWalk walk, Tally tally)
    {
        var listed = tally.Listed;
        for (var i = 0; i < listed.Length; i++)
        {
            if (i > 0)
            {
                text.AppendLiteral(", ");
            }

            text.AppendFormatted(graph[walk.NodeAt(listed[i])].Id);
        }

        if (tally.Count > ListedPerReason)
        {
            text.AppendLiteral(" and ");
            text.AppendFormatted(tally.Count - ListedPerReason);
            text.AppendLiteral(" more");
        }
    }

    /// <summary>How many touched nodes share a trait, and the first <see cref="ListedPerReason"/> of them in touched order.</summary>
    private readonly struct Tally(int[] listed, int offset, int count)
    {
        public int Count => count;

        public ReadOnlySpan<int> Listed => count == 0 ? [] : listed.AsSpan(offset, Math.Min(count, ListedPerReason));
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
