using ControlPlane.Contracts;

namespace ControlPlane.SystemGraph.Graph;

/// <summary>
/// Which nodes outside traffic reaches in one graph version, and through which path. Entries are the nodes that
/// accept outside traffic (internetExposed; a node behind a VPN is not one). Traffic moves along "depends on" edges
/// from the dependent to its dependency for every flow, except a consumer's async edge, where the message moves from
/// the queue to the consumer. Multi-source breadth-first search from every entry at once: each reachable node gets
/// one shortest path, entry first; among equally short paths the one that is smallest node by node in ordinal id
/// order (entries and neighbours are visited in id order), so the result is deterministic. Pure: no I/O.
/// </summary>
public sealed class GraphReachability
{
    private readonly GraphSnapshot _graph;
    private readonly int[] _depth;
    private readonly int[] _parent;
    // (dependent, dependency) pairs sorted, with the rank in EdgeFlows.All of each pair's flow: a binary search, not a
    // hash of packed ids (whose xor-folded hashes collide badly on layered graphs).
    private readonly long[] _pairs;
    private readonly byte[] _pairFlows;

    private GraphReachability(GraphSnapshot graph, int[] depth, int[] parent, long[] pairs, byte[] pairFlows, int[] entries, int reachableCount)
    {
        _graph = graph;
        _depth = depth;
        _parent = parent;
        _pairs = pairs;
        _pairFlows = pairFlows;
        Entries = entries;
        ReachableCount = reachableCount;
    }

    /// <summary>The entry nodes' indexes, in id order.</summary>
    public IReadOnlyList<int> Entries { get; }

    public int ReachableCount { get; }

    public static GraphReachability Compute(GraphSnapshot graph, IReadOnlyList<GraphEdge> edges)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(edges);
        var n = graph.NodeCount;

        // Traffic pairs (source, destination) packed in a long and sorted, so each node's next hops come out in id order.
        var traffic = new long[edges.Count];
        var pairs = new long[edges.Count];
        var pairFlows = new byte[edges.Count];
        for (var i = 0; i < edges.Count; i++)
        {
            var edge = edges[i];
            graph.TryGetIndex(edge.From, out var from);
            graph.TryGetIndex(edge.To, out var to);
            var flow = edge.Flow ?? GraphVocabulary.DefaultFlow(edge.Kind);
            traffic[i] = GraphVocabulary.TrafficAgainstEdge(edge.Kind, flow) ? Pack(to, from) : Pack(from, to);
            pairs[i] = Pack(from, to);
            pairFlows[i] = Rank(flow);
        }

        Array.Sort(traffic);
        Array.Sort(pairs, pairFlows);
        // Several edges between one pair: the flow listed first in EdgeFlows.All names the pair, whatever the input order.
        var distinct = 0;
        for (var i = 0; i < pairs.Length; i++)
        {
            if (distinct > 0 && pairs[distinct - 1] == pairs[i])
            {
                pairFlows[distinct - 1] = Math.Min(pairFlows[distinct - 1], pairFlows[i]);
                continue;
            }

            pairs[distinct] = pairs[i];
            pairFlows[distinct++] = pairFlows[i];
        }
        var start = new int[n + 1];
        foreach (var pair in traffic)
        {
            start[(int)(pair >> 32) + 1]++;
        }

        for (var i = 0; i < n; i++)
        {
            start[i + 1] += start[i];
        }

        var depth = new int[n];
        var parent = new int[n];
        Array.Fill(depth, -1);
        var queue = new int[n];
        int head = 0, tail = 0;
        for (var i = 0; i < n; i++)
        {
            if (graph[i].InternetExposed)
            {
                depth[i] = 0;
                parent[i] = -1;
                queue[tail++] = i;
            }
        }

        var entries = queue[..tail];
        while (head < tail)
        {
            var current = queue[head++];
            for (var k = start[current]; k < start[current + 1]; k++)
            {
                var next = (int)(traffic[k] & 0xFFFF_FFFF);
                if (depth[next] < 0)
                {
                    depth[next] = depth[current] + 1;
                    parent[next] = current;
                    queue[tail++] = next;
                }
            }
        }

        return new GraphReachability(graph, depth, parent, pairs[..distinct], pairFlows[..distinct], entries, tail);
    }

    public bool IsReachable(int index) => _depth[index] >= 0;

    /// <summary>The shortest path from an entry to the node, entry first; null when no entry reaches it.</summary>
    public IReadOnlyList<string>? PathTo(int index)
    {
        if (_depth[index] < 0)
        {
            return null;
        }

        var path = new string[_depth[index] + 1];
        for (var i = path.Length - 1; i >= 0; i--)
        {
            path[i] = _graph[index].Id;
            index = _parent[index];
        }

        return path;
    }

    /// <summary>The flow of the edge "dependent depends on dependency" (null when there is none).</summary>
    public string? FlowOf(int dependent, int dependency)
    {
        var at = Array.BinarySearch(_pairs, Pack(dependent, dependency));
        return at >= 0 && _pairFlows[at] < EdgeFlows.All.Count ? EdgeFlows.All[_pairFlows[at]] : null;
    }

    private static long Pack(int high, int low) => ((long)high << 32) | (uint)low;

    private static byte Rank(string flow)
    {
        for (var i = 0; i < EdgeFlows.All.Count; i++)
        {
            if (EdgeFlows.All[i] == flow)
            {
                return (byte)i;
            }
        }

        return byte.MaxValue;
    }
}
