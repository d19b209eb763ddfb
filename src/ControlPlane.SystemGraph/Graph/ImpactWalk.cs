using System.Buffers;

namespace ControlPlane.SystemGraph.Graph;

/// <summary>
/// One breadth-first walk in report order (the known targets in the order given, then the dependents by depth, then
/// id): per position the node index and the index of the node it was reached from, plus where each depth starts.
/// Depths and the parents' positions are not stored per node: a depth is a search in the few level starts, and a
/// parent's position a search in its (id-ordered) level, or one linear pass once a caller reads every path.
/// The walk's working state (visited bits, queue) is as large as the graph and reused across walks, so a walk
/// allocates only in proportion to what it finds.
/// </summary>
internal sealed partial class ImpactWalk
{
    private readonly IntChunks _node;
    // The node each was reached from, kept only until its position is known (a small walk knows it from the start).
    private readonly IntChunks? _parent;
    private readonly int[] _levelStart;
    private IntChunks? _parentPosition;

    private ImpactWalk(IntChunks node, IntChunks? parent, IntChunks? parentPosition, int[] levelStart)
    {
        _node = node;
        _parent = parent;
        _parentPosition = parentPosition;
        _levelStart = levelStart;
    }

    public int TargetCount => _levelStart.Length > 1 ? _levelStart[1] : _node.Length;

    public int TouchedCount => _node.Length;

    public int DependentCount => _node.Length - TargetCount;

    /// <summary>Node indices in report order, a chunk at a time.</summary>
    public IntChunks Nodes => _node;

    public int NodeAt(int position) => _node[position];

    public bool IsTarget(int position) => position < TargetCount;

    public int DepthAt(int position)
    {
        // Level starts strictly increase (every level holds a node), so an exact hit is the level's first position.
        var found = Array.BinarySearch(_levelStart, 0, _levelStart.Length - 1, position);
        return found >= 0 ? found : ~found - 1;
    }

    public string[] PathFromTarget(GraphSnapshot graph, int position)
    {
        var depth = DepthAt(position);
        var path = new string[depth + 1];
        var resolved = Volatile.Read(ref _parentPosition);
        for (var d = depth; d > 0; d--)
        {
            path[d] = graph[_node[position]].Id;
            position = resolved is not null ? resolved[position] : ParentPosition(position, d);
        }

        path[0] = graph[_node[position]].Id;
        return path;
    }

    /// <summary>The position of the node the one at <paramref name="position"/> (at <paramref name="depth"/> &gt; 0) was reached from.</summary>
    public int ParentAt(int position, int depth) =>
        Volatile.Read(ref _parentPosition) is { } resolved ? resolved[position] : ParentPosition(position, depth);

    /// <summary>
    /// Before reading many paths: every parent's position in one pass over the walk (through a graph-sized map), rather
    /// than a search per step of every path.
    /// </summary>
    public void ResolveParents(int nodeCount)
    {
        if (Volatile.Read(ref _parentPosition) is not null)
        {
            return;
        }

        var parent = _parent!;
        var positions = ArrayPool<int>.Shared.Rent(_node.Length);
        var map = ArrayPool<int>.Shared.Rent(nodeCount);
        for (var p = 0; p < _node.Length; p++)
        {
            map[_node[p]] = p;
        }

        for (var p = 0; p < _node.Length; p++)
        {
            positions[p] = parent[p] < 0 ? -1 : map[parent[p]];
        }

        ArrayPool<int>.Shared.Return(map);
        Interlocked.CompareExchange(ref _parentPosition, new IntChunks(positions.AsSpan(0, _node.Length)), null);
        ArrayPool<int>.Shared.Return(positions);
    }

    // The parent sits one level up; levels past the targets are ordered by index, targets are few and in given order.
    private int ParentPosition(int position, int depth)
    {
        var parent = _parent![position];
        var start = _levelStart[depth - 1];
        var length = _levelStart[depth] - start;
        return depth == 1 ? _node.IndexOf(start, length, parent) : _node.BinarySearch(start, length, parent);
    }

    /// <summary>
    /// Walks from <paramref name="targets"/> and, while putting the touched nodes in report order, counts them per
    /// traits id and marks their teams (see <see cref="GraphSnapshot.Facts"/>): one pass over them fewer.
    /// </summary>
    public static ImpactWalk Run(GraphSnapshot graph, List<int> targets, Span<int> perTraits, Span<bool> teams)
    {
        var state = WalkState.Rent(graph.NodeCount);
        var walk = state.Walk(graph, targets, perTraits, teams);
        // Not returned if the walk threw: its visited bits may not be clear.
        WalkState.Return(state);
        return walk;
    }
}
