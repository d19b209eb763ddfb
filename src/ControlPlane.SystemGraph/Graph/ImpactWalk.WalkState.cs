namespace ControlPlane.SystemGraph.Graph;

internal sealed partial class ImpactWalk
{
    /// <summary>
    /// Per-node working arrays. Visited is one bit per node, small enough to stay in cache on a 100k-node graph; the walk
    /// clears the words it set before the state is reused. Depth and parent per node share one word (depth high, parent
    /// low), so a find costs one scattered write rather than two; it is only read for nodes whose bit is set.
    /// </summary>
    private sealed class WalkState
    {
        /// <summary>
        /// From this many edges (a dependents array of 400 KB, about a core's second-level cache) a walk takes
        /// <see cref="WalkOutOfCache"/>. Measured on layered graphs of 28k, 74k, 117k, 250k and 502k edges: the in-cache
        /// loop was faster on the first two, the out-of-cache one on the rest (README, "Benchmarks").
        /// </summary>
        internal const int OutOfCacheEdges = 100_000;

        // A few spares, so assessments running side by side each reuse theirs rather than allocate graph-sized arrays.
        private static readonly WalkState?[] s_spares = new WalkState?[Math.Clamp(Environment.ProcessorCount, 2, 16)];

        private ulong[] _visited = [];
        private long[] _found = [];
        private int[] _queue = [];
        private int[] _parents = [];
        private int[] _reachedFrom = [];
        // Keeps the early reads of the out-of-cache walk, which would otherwise be dead code to the JIT.
        private int _earlyReads;
        private int[] _levelStart = new int[64];

        public static WalkState Rent(int nodes)
        {
            WalkState? state = null;
            for (var i = 0; i < s_spares.Length && state is null; i++)
            {
                state = Interlocked.Exchange(ref s_spares[i], null);
            }

            state ??= new WalkState();
            if (state._found.Length < nodes)
            {
                state._visited = new ulong[(nodes + 63) / 64];
                state._found = new long[nodes];
                state._queue = new int[nodes + 1];
                state._reachedFrom = new int[nodes + 1];
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
            var tail = 0;
            foreach (var index in targets)
            {
                visited[index >> 6] |= 1UL << index;
                found[index] = 0;
                queue[tail++] = index;
            }

            var levels = graph.EdgeCount < OutOfCacheEdges ? WalkInCache(graph, tail) : WalkOutOfCache(graph, tail);
            tail = _levelStart[levels];
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

        /// <summary>
        /// Level by level from the targets at the head of the queue, so a level's depth is a constant and its end is where
        /// the queue stood when it began; each node found gets its depth and the node it was reached from.
        /// </summary>
        /// <returns>How many levels were walked; the level starts end with the queue's end.</returns>
        private int WalkInCache(GraphSnapshot graph, int tail)
        {
            var visited = _visited.AsSpan();
            var found = _found.AsSpan();
            var queue = _queue.AsSpan();
            var starts = graph.DependentStarts;
            var dependents = graph.DependentIndices;
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
            return levels;
        }

        /// <summary>
        /// The same walk for a graph whose arrays outgrow the core's caches, where most nodes' dependents are a miss away.
        /// Two changes let the core keep several misses in flight instead of waiting on each: no branch on "seen before"
        /// (its outcome is random there, and each misprediction discards the loads issued past it), and the dependents of
        /// the nodes a few places further along the queue are read early. Every edge writes its node at the tail, which
        /// moves on only if the node is new (a seen node's entry is overwritten by the next; the queue has a spare slot
        /// for the last write); depth and parent are written per node afterwards. On the 10k-node benchmark graph, all
        /// in cache, this loop is slower than <see cref="WalkInCache"/> (README, "Benchmarks").
        /// </summary>
        private int WalkOutOfCache(GraphSnapshot graph, int tail)
        {
            var visited = _visited.AsSpan();
            var queue = _queue.AsSpan();
            var reachedFrom = _reachedFrom.AsSpan();
            var starts = graph.DependentStarts;
            var dependents = graph.DependentIndices;
            var levels = 0;
            var head = 0;
            var early = 0;
            while (head < tail)
            {
                SetLevelStart(levels++, head);
                var end = tail;
                for (; head < end; head++)
                {
                    // Plain reads whose values matter to nothing but the sink below: where a node 16 places on starts its
                    // dependents, and the first dependent of the node 8 places on (whose start the earlier read fetched).
                    if (head + 16 < tail)
                    {
                        early += starts[queue[head + 16]];
                    }

                    if (head + 8 < tail && starts[queue[head + 8]] is var ahead && ahead < dependents.Length)
                    {
                        early += dependents[ahead];
                    }

                    var current = queue[head];
                    foreach (var dependent in dependents[starts[current]..starts[current + 1]])
                    {
                        ref var word = ref visited[dependent >> 6];
                        var before = word;
                        word = before | (1UL << dependent);
                        queue[tail] = dependent;
                        reachedFrom[tail] = current;
                        // A ulong shift takes the count's low six bits: this is the dependent's bit in its word.
                        tail += (int)(~before >> dependent) & 1;
                    }
                }
            }

            SetLevelStart(levels, tail);
            _earlyReads = early;
            var found = _found.AsSpan();
            for (var level = 1; level < levels; level++)
            {
                var depth = (long)level << 32;
                for (var p = _levelStart[level]; p < _levelStart[level + 1]; p++)
                {
                    found[queue[p]] = depth | (uint)reachedFrom[p];
                }
            }

            return levels;
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
