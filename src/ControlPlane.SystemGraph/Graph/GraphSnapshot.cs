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

    public GraphSnapshot(long version, IEnumerable<GraphNode> nodes, IEnumerable<GraphEdge> edges)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(edges);
        Version = version;
        _nodes = [.. nodes];
        _index = _nodes.Select((n, i) => KeyValuePair.Create(n.Id, i)).ToFrozenDictionary(StringComparer.Ordinal);
        if (_index.Count != _nodes.Length)
        {
            throw new ArgumentException("Node ids must be unique within a graph version.", nameof(nodes));
        }

        // Edges of several kinds between one pair are one dependency for impact purposes.
        var pairs = new HashSet<(int Dependent, int Dependency)>();
        foreach (var edge in edges)
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
        foreach (var (dependent, dependency) in pairs.OrderBy(p => p.Dependency).ThenBy(p => _nodes[p.Dependent].Id, StringComparer.Ordinal))
        {
            _dependents[fill[dependency]++] = dependent;
        }
    }

    public static GraphSnapshot Empty { get; } = new(0, [], []);

    public long Version { get; }

    public int NodeCount => _nodes.Length;

    /// <summary>Distinct (dependent, dependency) pairs.</summary>
    public int EdgeCount { get; }

    public GraphNode this[int index] => _nodes[index];

    public bool TryGetIndex(string id, out int index) => _index.TryGetValue(id, out index);

    /// <summary>The nodes that depend directly on the node at <paramref name="index"/>, ordered by id.</summary>
    public ReadOnlySpan<int> DependentsOf(int index) => _dependents.AsSpan(_dependentStart[index], _dependentStart[index + 1] - _dependentStart[index]);
}
