using System.Buffers;

namespace ControlPlane.SystemGraph.Graph;

/// <summary>
/// One breadth-first walk, kept as three int arrays in touched order (the known targets in the order given, then the
/// dependents by depth, then id): node index, depth, and the position of the node it was reached from. The
/// walk's working state (visited stamps, queue) is as large as the graph and reused across walks, so a walk
/// allocates only in proportion to what it finds.
/// </summary>
internal sealed class ImpactWalk
{
    private readonly int[] _node;
    private readonly int[] _depth;
    private readonly int[] _parent;

    private ImpactWalk(int[] node, int[] depth, int[] parent, int targets)
    {
        _node = node;
        _depth = depth;
        _parent = parent;
        TargetCount = targets;
    }

    public int TargetCount { get; }

    public int TouchedCount => _node.Length;

    public int DependentCount => _node.Length - TargetCount;

    public int NodeAt(int position) => _node[position];

    public int DepthAt(int position) => _depth[position];

    public bool IsTarget(int position) => position < TargetCount;

    public string[] PathFromTarget(GraphSnapshot graph, int position)
    {
        var path = new string[_depth[position] + 1];
        for (var i = path.Length - 1; i >= 0; i--)
        {
            path[i] = graph[_node[position]].Id;
            position = _parent[position];
        }

        return path;
    }

    public static ImpactWalk Run(GraphSnapshot graph, List<int> targets)
    {
        var state = WalkState.Rent(graph.NodeCount);
        try
        {
            return state.Walk(graph, targets);
        }
        finally
        {
            WalkState.Return(state);
        }
    }

    /// <summary>Per-node working arrays; "visited" is a stamp equal to the walk's generation, so nothing is cleared between walks.</summary>
    private sealed class WalkState
    {
        // A few spares, so assessments running side by side each reuse theirs rather than allocate graph-sized arrays.
        private static readonly WalkState?[] s_spares = new WalkState?[Math.Clamp(Environment.ProcessorCount, 2, 16)];

        private int[] _stamp = [];
        private int[] _depth = [];
        private int[] _parent = [];
        private int[] _queue = [];
        private int[] _position = [];
        private int _generation;

        public static WalkState Rent(int nodes)
        {
            WalkState? state = null;
            for (var i = 0; i < s_spares.Length && state is null; i++)
            {
                state = Interlocked.Exchange(ref s_spares[i], null);
            }

            state ??= new WalkState();
            if (state._stamp.Length < nodes)
            {
                state._stamp = new int[nodes];
                state._depth = new int[nodes];
                state._parent = new int[nodes];
                state._queue = new int[nodes];
                state._position = new int[nodes];
                state._generation = 0;
            }

            if (++state._generation == int.MaxValue)
            {
                Array.Clear(state._stamp);
                state._generation = 1;
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

        public ImpactWalk Walk(GraphSnapshot graph, List<int> targets)
        {
            var generation = _generation;
            int head = 0, tail = 0;
            foreach (var index in targets)
            {
                _stamp[index] = generation;
                _depth[index] = 0;
                _parent[index] = -1;
                _queue[tail++] = index;
            }

            var knownTargets = tail;
            while (head < tail)
            {
                var current = _queue[head++];
                var next = _depth[current] + 1;
                foreach (var dependent in graph.DependentsOf(current))
                {
                    if (_stamp[dependent] != generation)
                    {
                        _stamp[dependent] = generation;
                        _depth[dependent] = next;
                        _parent[dependent] = current;
                        _queue[tail++] = dependent;
                    }
                }
            }

            var node = new int[tail];
            _queue.AsSpan(0, tail).CopyTo(node);
            OrderDependents(graph.NodeCount, node, knownTargets, generation);

            var depth = new int[tail];
            var parent = new int[tail];
            for (var p = 0; p < tail; p++)
            {
                _position[node[p]] = p;
            }

            for (var p = 0; p < tail; p++)
            {
                var index = node[p];
                depth[p] = _depth[index];
                parent[p] = p < knownTargets ? -1 : _position[_parent[index]];
            }

            return new ImpactWalk(node, depth, parent, knownTargets);
        }

        /// <summary>
        /// The walk found dependents level by level; the report lists each level by id (index order is id order). A small
        /// find sorts each level; a large one reads the visited stamps in index order into per-level slots, which is
        /// linear in the graph and beats sorting once a find is a sizeable share of it.
        /// </summary>
        private void OrderDependents(int nodeCount, int[] node, int first, int generation)
        {
            var found = node.Length - first;
            if (found < 2)
            {
                return;
            }

            var levels = _depth[node[^1]];
            var levelStart = ArrayPool<int>.Shared.Rent(levels + 2);
            try
            {
                // BFS order is by depth: level d starts where the depth first reaches d.
                levelStart.AsSpan(0, levels + 2).Clear();
                for (var p = first; p < node.Length; p++)
                {
                    levelStart[_depth[node[p]] + 1]++;
                }

                levelStart[1] = first;
                for (var d = 1; d <= levels; d++)
                {
                    levelStart[d + 1] += levelStart[d];
                }

                if ((long)found * 32 < nodeCount)
                {
                    for (var d = 1; d <= levels; d++)
                    {
                        node.AsSpan(levelStart[d], levelStart[d + 1] - levelStart[d]).Sort();
                    }

                    return;
                }

                for (var index = 0; index < nodeCount; index++)
                {
                    if (_stamp[index] == generation && _depth[index] > 0)
                    {
                        node[levelStart[_depth[index]]++] = index;
                    }
                }
            }
            finally
            {
                ArrayPool<int>.Shared.Return(levelStart);
            }
        }
    }
}
