using ControlPlane.Contracts;
using ControlPlane.SystemGraph.Graph;

namespace ControlPlane.Benchmarks.Graph;

/// <summary>
/// The generated graphs both sides of the blast-radius comparison load (ours in memory, the recursive CTE in
/// PostgreSQL): layers of nodes, each depending on a few nodes of the layer below, some edges pointing back up (cycles),
/// and every layer-1 node depending on one hub (node 0), whose blast radius is therefore everything above it.
/// "10k": 10 layers of 1,000, 3 dependencies each, 1% back edges (about 28k edges). "100k": 20 layers of 5,000,
/// 5 dependencies each, 25% back edges (about 500k edges). Seeded, so every run builds the same graph.
/// </summary>
public sealed class LayeredGraph
{
    private LayeredGraph(string name, int layers, int perLayer, int dependencies, int backEdgePercent)
    {
        Name = name;
        PerLayer = perLayer;
        Layers = layers;
        var random = new Random(42);
        string[][] classes = [["public"], ["pii"], ["regulated", "pci"], []];
        Nodes = [.. Enumerable.Range(0, layers * perLayer).Select(i => new GraphNode(
            Id(i), "service", Id(i), $"team-{i % 40}", random.Next(4), random.Next(100) < 5, classes[random.Next(classes.Length)], random.Next(100) < 2))];
        var edges = new HashSet<GraphEdge>();
        for (var layer = 1; layer < layers; layer++)
        {
            for (var i = 0; i < perLayer; i++)
            {
                for (var k = 0; k < dependencies; k++)
                {
                    edges.Add(new GraphEdge(Id(layer * perLayer + i), Id((layer - 1) * perLayer + random.Next(perLayer)), "calls"));
                }

                if (layer == 1)
                {
                    edges.Add(new GraphEdge(Id(layer * perLayer + i), Id(0), "calls"));
                }

                if (random.Next(100) < backEdgePercent && layer < layers - 1)
                {
                    edges.Add(new GraphEdge(Id(layer * perLayer + i), Id((layer + 1) * perLayer + random.Next(perLayer)), "reads"));
                }
            }
        }

        Edges = [.. edges];
        Snapshot = new GraphSnapshot(1, Nodes, Edges);
    }

    public string Name { get; }

    public int Layers { get; }

    public int PerLayer { get; }

    public GraphNode[] Nodes { get; }

    public GraphEdge[] Edges { get; }

    public GraphSnapshot Snapshot { get; }

    /// <summary>The hub: every node above layer 0 depends on it (the worst case).</summary>
    public string Hub => Id(0);

    /// <summary>A bottom-layer node (about a thousand dependents on the 10k graph).</summary>
    public string Bottom => Id(17);

    /// <summary>A mid-layer node (tens of dependents on the 10k graph).</summary>
    public string Mid => Id(Layers / 2 * PerLayer + 17);

    /// <summary>A top-layer node: nothing depends on it.</summary>
    public string Leaf => Id(Layers * PerLayer - 1);

    public static LayeredGraph Create(string name) => name switch
    {
        "10k" => new LayeredGraph(name, 10, 1_000, 3, 1),
        "100k" => new LayeredGraph(name, 20, 5_000, 5, 25),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Graphs: 10k, 100k."),
    };

    public static string Id(int index) => $"node-{index:D6}";
}
