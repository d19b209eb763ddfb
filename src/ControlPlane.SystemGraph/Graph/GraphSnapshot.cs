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
    private readonly int[] _teamOf;
    private readonly string[] _dataClasses;
    private readonly int[] _classStart;
    private readonly int[] _classIds;

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

        (_teams, _teamOf) = Ranks(_nodes, n => [n.Team]);
        (_dataClasses, _classIds) = Ranks(_nodes, n => n.DataClasses);
        _classStart = new int[_nodes.Length + 1];
        for (var i = 0; i < _nodes.Length; i++)
        {
            _classStart[i + 1] = _classStart[i] + _nodes[i].DataClasses.Distinct(StringComparer.Ordinal).Count();
        }
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

    /// <summary>Distinct teams of this version in ordinal order; <see cref="TeamOf"/> indexes it.</summary>
    internal IReadOnlyList<string> Teams => _teams;

    internal int TeamOf(int index) => _teamOf[index];

    /// <summary>Distinct data classes of this version in ordinal order; <see cref="DataClassesOf"/> indexes it.</summary>
    internal IReadOnlyList<string> DataClasses => _dataClasses;

    /// <summary>The node's distinct data classes as ids into <see cref="DataClasses"/>, ascending.</summary>
    internal ReadOnlySpan<int> DataClassesOf(int index) => _classIds.AsSpan(_classStart[index], _classStart[index + 1] - _classStart[index]);

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
