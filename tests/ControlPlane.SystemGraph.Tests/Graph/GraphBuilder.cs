using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.SystemGraph.Graph;
using ControlPlane.SystemGraph.Seed;

namespace ControlPlane.SystemGraph.Tests.Graph;

/// <summary>Small graphs for tests: "a->b" means a depends on b.</summary>
internal static class GraphBuilder
{
    public static GraphNode Node(string id, int tier = 3, bool revenue = false, string[]? classes = null, bool exposed = false, string team = "core") =>
        new(id, "service", id, team, tier, revenue, classes ?? [], exposed);

    public static GraphSnapshot Make(long version, IEnumerable<GraphNode> nodes, params string[] edges) =>
        new(version, nodes, edges.Select(e => e.Split("->")).Select(p => new GraphEdge(p[0], p[1], "calls")));

    public static GraphSnapshot Make(params string[] edges)
    {
        var ids = edges.SelectMany(e => e.Split("->")).Distinct(StringComparer.Ordinal);
        return Make(1, ids.Select(id => Node(id)), edges);
    }

    /// <summary>The demo graph ./run.sh seeds (copied to the output folder with the service).</summary>
    public static GraphSnapshot Demo(long version = 1)
    {
        var seed = JsonSerializer.Deserialize<GraphSeed>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Seed", "demo-graph.json")), ContractJson.Options)!;
        var nodes = seed.Nodes!.Select(n => GraphValidation.ToNode(GraphSeed.IdOf(n)!, GraphSeed.BodyOf(n), new Dictionary<string, string[]>())!);
        var edges = seed.Edges!.Select(e => GraphValidation.ToEdge(e, new Dictionary<string, string[]>())!);
        return new GraphSnapshot(version, nodes, edges);
    }
}
