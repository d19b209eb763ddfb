using System.Collections.Frozen;

namespace ControlPlane.SystemGraph.Graph;

/// <summary>
/// One graph version, immutable, indexed for walking edges backwards: for every node, the nodes that depend on
/// it directly (compressed sparse rows, so a 10k-node walk touches arrays rather than dictionaries).
/// </summary>
public sealed class GraphSnapshot
{
    private readonly GraphNode[] _nodes;
    private readonly FrozenDictionary<string, int> _index;
    private readonly int[] _dependentStart;
    private readonly int[] _dependents;
    private readonly Lazy<GraphReachability> _reachability;

    // Node attributes the impact walk aggregates, as small ints built once per version: team and data-class ids
    // are ranks in ordinal order, so a set of ids read in id order is already the sorted list of names.
    private readonly string[] _teams;
    private readonly string[] _dataClasses;
    private readonly NodeFacts[] _facts;
    private readonly NodeTraits[] _traits;
    private readonly int[] _classReasonOrder;

    public GraphSnapshot(long version, IEnumerable<GraphNode> nodes, IEnumerable<GraphEdge> edges)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(edges);
        Version = version;
        // Index order is id order, so walks can order nodes by comparing ints rather than strings.
        _nodes = [.. nodes.OrderBy(n => n.Id, StringComparer.Ordinal)];
        _index = _nodes.Select((n, i) => KeyValuePair.Create(n.Id, i)).ToFrozenDictionary(StringComparer.Ordinal);
        if (_index.Count != _nodes.Length)
        {
            throw new ArgumentException("Node ids must be unique within a graph version.", nameof(nodes));
        }

        // Edges of several kinds between one pair are one dependency for impact purposes.
        var pairs = new HashSet<(int Dependent, int Dependency)>();
        var edgeList = edges as GraphEdge[] ?? [.. edges];
        // Reachability needs the edges' kinds and flows: computed once per version, on first use.
        _reachability = new(() => GraphReachability.Compute(this, edgeList));
        foreach (var edge in edgeList)
        {
            if (!_index.TryGetValue(edge.From, out var from) || !_index.TryGetValue(edge.To, out var to))
            {
                throw new ArgumentException($"Edge {edge} names a node that is not in graph version {version}.", nameof(edges));
            }

            pairs.Add((from, to));
        }

        EdgeCount = pairs.Count;
        _dependentStart = new int[_nodes.Length + 1];
        foreach (var (_, dependency) in pairs)
        {
            _dependentStart[dependency + 1]++;
        }

        for (var i = 0; i < _nodes.Length; i++)
        {
            _dependentStart[i + 1] += _dependentStart[i];
        }

        _dependents = new int[pairs.Count];
        var fill = _dependentStart[..^1];
        // Filled in dependent order, so each node's dependents come out ordered by id.
        var ordered = pairs.Select(p => ((long)p.Dependent << 32) | (uint)p.Dependency).ToArray();
        Array.Sort(ordered);
        foreach (var pair in ordered)
        {
            _dependents[fill[(int)(pair & 0xFFFF_FFFF)]++] = (int)(pair >> 32);
        }

        int[] teamOf, classIds;
        (_teams, teamOf) = Ranks(_nodes, n => [n.Team]);
        (_dataClasses, classIds) = Ranks(_nodes, n => n.DataClasses);
        (_facts, _traits) = DistinctTraits(_nodes, teamOf, classIds);
        _classReasonOrder = ImpactAnalyzer.ClassReasonOrder(_dataClasses);
    }

    public static GraphSnapshot Empty { get; } = new(0, [], []);

    public long Version { get; }

    public int NodeCount => _nodes.Length;

    /// <summary>Distinct (dependent, dependency) pairs.</summary>
    public int EdgeCount { get; }

    public GraphNode this[int index] => _nodes[index];

    public bool TryGetIndex(string id, out int index) => _index.TryGetValue(id, out index);

    /// <summary>Which nodes outside traffic reaches, and how (see <see cref="GraphReachability"/>).</summary>
    public GraphReachability Reachability => _reachability.Value;

    /// <summary>The nodes that depend directly on the node at <paramref name="index"/>, ordered by id.</summary>
    public ReadOnlySpan<int> DependentsOf(int index) => _dependents.AsSpan(_dependentStart[index], _dependentStart[index + 1] - _dependentStart[index]);

    /// <summary>Where each node's dependents start in <see cref="DependentIndices"/> (one more entry than nodes).</summary>
    internal ReadOnlySpan<int> DependentStarts => _dependentStart;

    /// <summary>Every node's dependents, node after node (the rows of <see cref="DependentsOf"/>).</summary>
    internal ReadOnlySpan<int> DependentIndices => _dependents;

    /// <summary>Distinct teams of this version in ordinal order; <see cref="NodeFacts.Team"/> indexes it.</summary>
    internal IReadOnlyList<string> Teams => _teams;

    /// <summary>Distinct data classes of this version in ordinal order; <see cref="NodeTraits.DataClasses"/> indexes it.</summary>
    internal IReadOnlyList<string> DataClasses => _dataClasses;

    /// <summary>Per node index: its team and its traits' id (into <see cref="Traits"/>), side by side in one flat array.</summary>
    internal ReadOnlySpan<NodeFacts> Facts => _facts;

    /// <summary>Data-class ids in the order the impact report gives their reasons.</summary>
    internal ReadOnlySpan<int> ClassReasonOrder => _classReasonOrder;

    /// <summary>The distinct combinations of the traits the impact report aggregates; few, however many nodes share them.</summary>
    internal IReadOnlyList<NodeTraits> Traits => _traits;

    /// <summary>
    /// Nodes with the same tier, flags and data classes share one <see cref="NodeTraits"/>: a walk over thousands of
    /// dependents counts traits ids and reads the few combinations once, rather than branching on every node's attributes.
    /// </summary>
    private static (NodeFacts[] Facts, NodeTraits[] Traits) DistinctTraits(GraphNode[] nodes, int[] teamOf, int[] classIds)
    {
        var facts = new NodeFacts[nodes.Length];
        var traits = new List<NodeTraits>();
        var idOf = new Dictionary<(int, bool, bool, string), int>();
        var classStart = 0;
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            var classes = classIds.AsSpan(classStart, node.DataClasses.Distinct(StringComparer.Ordinal).Count()).ToArray();
            classStart += classes.Length;
            var key = (node.CriticalityTier, node.RevenuePath, node.InternetExposed, string.Join(',', classes));
            if (!idOf.TryGetValue(key, out var id))
            {
                id = traits.Count;
                idOf.Add(key, id);
                traits.Add(new NodeTraits(node.CriticalityTier, node.RevenuePath, node.InternetExposed, classes));
            }

            facts[i] = new NodeFacts(teamOf[i], id);
        }

        return (facts, [.. traits]);
    }

    /// <summary>
    /// Every distinct value the nodes name, in ordinal order, and for each node its values' ranks in that order, node
    /// after node, ascending within a node.
    /// </summary>
    private static (string[] Values, int[] Ranks) Ranks(GraphNode[] nodes, Func<GraphNode, IEnumerable<string>> values)
    {
        var all = nodes.SelectMany(values).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var rankOf = new Dictionary<string, int>(all.Length, StringComparer.Ordinal);
        for (var i = 0; i < all.Length; i++)
        {
            rankOf[all[i]] = i;
        }

        var ranks = new List<int>(nodes.Length);
        var ofNode = new SortedSet<int>();
        foreach (var node in nodes)
        {
            ofNode.Clear();
            foreach (var value in values(node))
            {
                ofNode.Add(rankOf[value]);
            }

            ranks.AddRange(ofNode);
        }

        return (all, [.. ranks]);
    }
}

/// <summary>A node's team (into <see cref="GraphSnapshot.Teams"/>) and traits (into <see cref="GraphSnapshot.Traits"/>).</summary>
internal readonly record struct NodeFacts(int Team, int Traits);

/// <summary>
/// Attributes the impact report aggregates; DataClasses are ids into <see cref="GraphSnapshot.DataClasses"/>, ascending.
/// Categories: the report's counts a node with these traits adds to, worked out once per version rather than by
/// branching on the attributes for every assessment.
/// </summary>
internal sealed record NodeTraits(int Tier, bool RevenuePath, bool InternetExposed, int[] DataClasses)
{
    public const int Revenue = 0, Exposed = 1, Tier0 = 2, Tier1 = 3, FirstClass = 4;

    public int[] Categories { get; } = CategoriesOf(Tier, RevenuePath, InternetExposed, DataClasses);

    /// <summary>The categories as bits (see <see cref="Bit"/>).</summary>
    public ulong Bits { get; } = CategoriesOf(Tier, RevenuePath, InternetExposed, DataClasses).Aggregate(0UL, (bits, category) => bits | Bit(category));

    /// <summary>A category's bit; categories past the 63rd share the last one (never cleared while listing, so such nodes are always visited).</summary>
    public static ulong Bit(int category) => 1UL << Math.Min(category, 63);

    private static int[] CategoriesOf(int tier, bool revenuePath, bool internetExposed, int[] dataClasses) =>
        [.. dataClasses.Select(c => FirstClass + c), .. revenuePath ? [Revenue] : Array.Empty<int>(), .. internetExposed ? [Exposed] : Array.Empty<int>(),
            .. tier is 0 or 1 ? [tier == 0 ? Tier0 : Tier1] : Array.Empty<int>()];
}
