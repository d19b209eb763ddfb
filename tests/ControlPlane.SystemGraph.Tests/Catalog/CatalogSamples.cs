using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.SystemGraph.Catalog;
using ControlPlane.SystemGraph.Graph;
using ControlPlane.SystemGraph.Seed;

namespace ControlPlane.SystemGraph.Tests.Catalog;

/// <summary>The shipped demo catalog and seed graph (copied beside the tests), and small catalogs built in tests.</summary>
public static class CatalogSamples
{
    public static string DemoFolder => Path.Combine(AppContext.BaseDirectory, "catalog", "demo");

    /// <summary>Every YAML file of the demo catalog, with its path relative to the folder (as the CLI sends them).</summary>
    public static IReadOnlyList<CatalogFile> DemoFiles() => CatalogFolder.Read(DemoFolder);

    /// <summary>The seed graph, validated exactly as the seeder does.</summary>
    public static (List<GraphNode> Nodes, List<GraphEdge> Edges) SeedGraph()
    {
        var seed = JsonSerializer.Deserialize<GraphSeed>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Seed", "demo-graph.json")), ContractJson.Options)!;
        var errors = new Dictionary<string, string[]>();
        var nodes = seed.Nodes!.Select(n => GraphValidation.ToNode(GraphSeed.IdOf(n)!, GraphSeed.BodyOf(n), errors)!).OrderBy(n => n.Id, StringComparer.Ordinal).ToList();
        var edges = seed.Edges!.Select(e => GraphValidation.ToEdge(e, errors)!).OrderBy(e => e.ToString(), StringComparer.Ordinal).ToList();
        Assert.Empty(errors);
        return (nodes, edges);
    }

    public const string Team = """
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata: { name: team-a }
        spec: { type: team }

        """;

    public static string Component(string name, string extra = "", string annotations = "tier: \"2\"") => $"""
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: {name}
          annotations:
            controlplane.io/{annotations}
        spec:
          type: service
          owner: group:team-a
        {extra}

        """;

    public static CatalogReadResult Read(params string[] files) =>
        BackstageCatalogReader.Read(files.Select((f, i) => new CatalogFile($"f{i}/catalog-info.yaml", f)));

    public static (CatalogGraph? Graph, IReadOnlyList<CatalogProblem> Problems) Map(params string[] files)
    {
        var read = Read(files);
        Assert.Empty(read.Problems);
        return BackstageMapper.Map(read.Entities);
    }
}
