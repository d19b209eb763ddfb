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
internal sealed class ImpactWalk
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

    /// <summary>
    /// Per-node working arrays. Visited is one bit per node, small enough to stay in cache on a 100k-node graph; the walk
    /// clears the words it set before the state is reused. Depth and parent per node share one word (depth high, parent
    /// low), so a find costs one scattered write rather than two; it is only read for nodes whose bit is set.
    /// </summary>
    private sealed class WalkState
    {
        // A few spares, so assessments running side by side each reuse theirs rather than allocate graph-sized arrays.
        private static readonly WalkState?[] s_spares = new WalkState?[Math.Clamp(Environment.ProcessorCount, 2, 16)];

        private ulong[] _visited = [];
        private long[] _found = [];
        private int[] _queue = [];
        private int[] _parents = [];
        private int[] _levelStart = new int[64];

        public static WalkState Rent(int nodes)
        {
            WalkState? state = null;
            for (var i = 0; i < s_spares.Length && state is null; i++)
            {
                state = Interlocked.Exchange(ref s_spares[i], null);
            }

            state ??= new WalkState();
            if (state._queue.Length < nodes)
            {
                state._visited = new ulong[(nodes + 63) / 64];
                state._found = new long[nodes];
                state._queue = new int[nodes];
                state._parents = new int[nodes];
            }

            return state;
        }

        public static void Return(WalkState state)
        {
            for (var i = 0; i < s_spares.Length; i++)
            {
                if (Interlocked.CompareExchange(ref s_spares[i], state, null) is null)
                {
                    return;
                }
            }
        }

        public ImpactWalk Walk(GraphSnapshot graph, List<int> targets, Span<int> perTraits, Span<bool> teams)
        {
            var visited = _visited.AsSpan();
            var found = _found.AsSpan();
            var queue = _queue.AsSpan();
            var starts = graph.DependentStarts;
            var dependents = graph.DependentIndices;

            var tail = 0;
            foreach (var index in targets)
            {
                visited[index >> 6] |= 1UL << index;
                found[index] = 0;
                queue[tail++] = index;
            }

            // Level by level, so a level's depth is a constant and its end is where the queue stood when it began.
            var levels = 0;
            var head = 0;
            while (head < tail)
            {
                SetLevelStart(levels++, head);
                var end = tail;
                for (; head < end; head++)
                {
                    var current = queue[head];
                    foreach (var dependent in dependents[starts[current]..starts[current + 1]])
                    {
                        ref var word = ref visited[dependent >> 6];
                        var bit = 1UL << dependent;
                        if ((word & bit) == 0)
                        {
                            word |= bit;
                            found[dependent] = ((long)levels << 32) | (uint)current;
                            queue[tail++] = dependent;
                        }
                    }
                }
            }

            SetLevelStart(levels, tail);
            var levelStart = _levelStart.AsSpan(0, levels + 1).ToArray();
            // Report order is made in the working arrays (the queue and its parents), then copied into the report's own.
            var first = levels > 0 ? levelStart[1] : 0;
            _parents.AsSpan(0, first).Fill(-1);
            var facts = graph.Facts;
            foreach (var target in queue[..first])
            {
                perTraits[facts[target].Traits]++;
                teams[facts[target].Team] = true;
            }

            var walk = OrderDependents(facts, levelStart, perTraits, teams)
                ? new ImpactWalk(new IntChunks(queue[..tail]), null, new IntChunks(_parents.AsSpan(0, tail)), levelStart)
                : new ImpactWalk(new IntChunks(queue[..tail]), new IntChunks(_parents.AsSpan(0, tail)), null, levelStart);
            Clear(queue[..tail]);
            return walk;
        }

        private void SetLevelStart(int level, int position)
        {
            if (level == _levelStart.Length)
            {
                Array.Resize(ref _levelStart, level * 2);
            }

            _levelStart[level] = position;
        }

        /// <summary>
        /// The walk found dependents level by level; the report lists each level by id (index order is id order). A small
        /// find sorts each level; a large one reads the visited bits in index order into per-level slots, which is
        /// linear in the graph and beats sorting once a find is a sizeable share of it.
        /// </summary>
        /// <returns>
        /// Whether the parents are positions in report order: a small find maps them as it goes, as every parent sits
        /// one level up, already placed; a large one leaves node indices, mapped only if a caller reads many paths.
        /// </returns>
        private bool OrderDependents(ReadOnlySpan<NodeFacts> facts, int[] levelStart, Span<int> perTraits, Span<bool> teams)
        {
            var levels = levelStart.Length - 1;
            if (levels < 2)
            {
                return true;
            }

            var first = levelStart[1];
            var end = levelStart[levels];
            var found = end - first;
            if ((long)found * 32 < facts.Length)
            {
                for (var d = 1; d < levels; d++)
                {
                    _queue.AsSpan(levelStart[d], levelStart[d + 1] - levelStart[d]).Sort();
                }

                // Each node's entry, once read, becomes its position, which is what its dependents one level down read.
                for (var p = 0; p < first; p++)
                {
                    _found[_queue[p]] = p;
                }

                for (var p = first; p < end; p++)
                {
                    var index = _queue[p];
                    _parents[p] = (int)_found[(int)_found[index]];
                    _found[index] = p;
                    var fact = facts[index];
                    perTraits[fact.Traits]++;
                    teams[fact.Team] = true;
                }

                return true;
            }
            else
            {
                var cursor = _levelStart.AsSpan(0, levels);
                levelStart.AsSpan(0, levels).CopyTo(cursor);
                // The queue is read no more: it takes the report order in place.
                var foundOf = _found;
                var node = _queue;
                var parent = _parents;
                // Neighbouring ids mostly share a depth: the current level's cursor stays in a register until it changes.
                var depthNow = 1;
                var at = cursor[1];
                for (var w = 0; w < _visited.Length; w++)
                {
                    var bits = _visited[w];
                    while (bits != 0)
                    {
                        var index = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                        bits &= bits - 1;
                        var entry = foundOf[index];
                        var depth = (int)(entry >> 32);
                        if (depth == 0)
                        {
                            continue;
                        }

                        if (depth != depthNow)
                        {
                            cursor[depthNow] = at;
                            depthNow = depth;
                            at = cursor[depth];
                        }

                        node[at] = index;
                        parent[at++] = (int)entry;
                        var fact = facts[index];
                        perTraits[fact.Traits]++;
                        teams[fact.Team] = true;
                    }
                }

                return false;
            }
        }

        // Only touched nodes have bits, so zeroing their words clears exactly what this walk set.
        private void Clear(ReadOnlySpan<int> touched)
        {
            if (touched.Length >= _visited.Length)
            {
                Array.Clear(_visited);
                return;
            }

            foreach (var index in touched)
            {
                _visited[index >> 6] = 0;
            }
        }
    }
}
