using ControlPlane.Contracts;
using ControlPlane.SystemGraph.Graph;
using static ControlPlane.SystemGraph.Tests.Graph.GraphBuilder;

namespace ControlPlane.SystemGraph.Tests.Graph;

public sealed class GraphReachabilityTests
{
    private static IReadOnlyList<string>? PathTo(GraphSnapshot graph, string id) =>
        graph.TryGetIndex(id, out var index) ? graph.Reachability.PathTo(index) : throw new ArgumentException(id);

    [Fact]
    public void In_the_demo_graph_billing_is_reachable_through_the_gateway_and_checkout_but_the_batch_job_and_the_vpn_tool_are_not()
    {
        var graph = Demo();

        Assert.Equal(["gateway"], graph.Reachability.Entries.Select(e => graph[e].Id));
        Assert.Equal(["gateway", "checkout", "billing"], PathTo(graph, "billing"));
        Assert.Equal(["gateway", "checkout", "billing", "ledger-db"], PathTo(graph, "ledger-db"));
        Assert.Null(PathTo(graph, "ledger-reconciliation"));
        Assert.Null(PathTo(graph, "billing-admin"));
        Assert.Null(PathTo(graph, "reporting"));
        Assert.Equal(["gateway"], PathTo(graph, "gateway"));
    }

    [Fact]
    public void A_message_travels_from_the_queue_to_its_consumer_not_from_the_consumer_to_the_queue()
    {
        var graph = Demo();

        // billing publishes to invoices-queue; notifications consumes it: traffic billing → queue → notifications.
        Assert.Equal(["gateway", "checkout", "billing", "invoices-queue", "notifications", "email-provider"], PathTo(graph, "email-provider"));
    }

    [Fact]
    public void An_explicit_flow_changes_the_direction_of_a_consumes_edge()
    {
        GraphNode[] nodes = [Node("entry", exposed: true), Node("queue"), Node("consumer")];
        var async = new GraphSnapshot(1, nodes, [new GraphEdge("entry", "queue", "publishes"), new GraphEdge("consumer", "queue", "consumes")]);
        var read = new GraphSnapshot(1, nodes, [new GraphEdge("entry", "queue", "publishes"), new GraphEdge("consumer", "queue", "consumes", EdgeFlows.DataRead)]);

        Assert.Equal(["entry", "queue", "consumer"], PathTo(async, "consumer"));
        Assert.Null(PathTo(read, "consumer")); // reading the queue sends requests to it, so nothing reaches the consumer
    }

    [Fact]
    public void A_graph_without_entries_has_nothing_reachable()
    {
        var graph = Make("a->b", "b->c");

        Assert.Empty(graph.Reachability.Entries);
        Assert.Equal(0, graph.Reachability.ReachableCount);
    }

    [Fact]
    public void Equal_length_paths_are_broken_by_ordinal_node_id_entry_first()
    {
        // z and a both reach target in two hops from two entries; the path from the smaller entry id wins, then the smaller hop.
        GraphNode[] nodes = [Node("entry-b", exposed: true), Node("entry-a", exposed: true), Node("z"), Node("m"), Node("target")];
        var graph = Make(1, nodes, "entry-b->m", "entry-a->z", "z->target", "m->target");

        Assert.Equal(["entry-a", "z", "target"], PathTo(graph, "target"));
    }

    [Fact]
    public void Flows_are_derived_from_kinds_unless_given()
    {
        Assert.Equal(
            [EdgeFlows.InternalCall, EdgeFlows.DataRead, EdgeFlows.DataWrite, EdgeFlows.Async, EdgeFlows.Async, EdgeFlows.PublicIngress],
            new[]
            {
                new GraphEdge("a", "b", "calls"), new GraphEdge("a", "b", "reads"), new GraphEdge("a", "b", "writes"),
                new GraphEdge("a", "b", "publishes"), new GraphEdge("a", "b", "consumes"), new GraphEdge("a", "b", "calls", EdgeFlows.PublicIngress),
            }.Select(e => e.Flow));
    }

    /// <summary>Property: on random graphs every path is a shortest traffic path from an entry, and a node is reachable exactly when a plain BFS says so.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Paths_are_shortest_start_at_an_entry_and_follow_traffic(int seed)
    {
        var random = new Random(seed);
        var count = 60;
        var nodes = Enumerable.Range(0, count).Select(i => Node($"n{i:D2}", exposed: random.Next(10) == 0)).ToList();
        string[] kinds = ["calls", "reads", "writes", "publishes", "consumes"];
        var edges = new HashSet<GraphEdge>();
        for (var i = 0; i < count * 2; i++)
        {
            var from = random.Next(count);
            var to = random.Next(count);
            if (from != to)
            {
                edges.Add(new GraphEdge(nodes[from].Id, nodes[to].Id, kinds[random.Next(kinds.Length)]));
            }
        }

        var graph = new GraphSnapshot(1, nodes, edges);
        var hops = edges.Select(e => GraphVocabulary.TrafficAgainstEdge(e.Kind, e.Flow!) ? (e.To, e.From) : (e.From, e.To)).ToHashSet();
        var distance = Distances(nodes.Where(n => n.InternetExposed).Select(n => n.Id), hops);

        foreach (var node in nodes)
        {
            var path = PathTo(graph, node.Id);
            Assert.Equal(distance.ContainsKey(node.Id), path is not null);
            if (path is null)
            {
                continue;
            }

            Assert.True(nodes.Single(n => n.Id == path[0]).InternetExposed, $"{node.Id}'s path starts at {path[0]}, not an entry");
            Assert.Equal(node.Id, path[^1]);
            Assert.Equal(distance[node.Id], path.Count - 1);
            Assert.All(path.Zip(path.Skip(1)), hop => Assert.Contains(hop, hops));
        }
    }

    private static Dictionary<string, int> Distances(IEnumerable<string> entries, HashSet<(string From, string To)> hops)
    {
        var distance = entries.ToDictionary(e => e, _ => 0, StringComparer.Ordinal);
        var frontier = distance.Keys.ToList();
        while (frontier.Count > 0)
        {
            var next = new List<string>();
            foreach (var (from, to) in hops.Where(h => frontier.Contains(h.From)))
            {
                if (distance.TryAdd(to, distance[from] + 1))
                {
                    next.Add(to);
                }
            }

            frontier = next;
        }

        return distance;
    }
}
