using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.SystemGraph.Data;
using ControlPlane.SystemGraph.Graph;

namespace ControlPlane.SystemGraph.Seed;

/// <summary>
/// A seed file: nodes (each the PUT /graph/nodes body plus its "id") and edges (the PUT /graph/edges body). Nodes
/// stay JSON until validation, so a seed node is read exactly like an API body.
/// </summary>
public sealed record GraphSeed(IReadOnlyList<JsonElement>? Nodes, IReadOnlyList<EdgeBody>? Edges)
{
    public static string? IdOf(JsonElement node) =>
        node.ValueKind == JsonValueKind.Object && node.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;

    public static NodeBody BodyOf(JsonElement node) => node.Deserialize<NodeBody>(ContractJson.Options) ?? new NodeBody(null, null, null, null, null, null, null);
}

/// <summary>
/// Loads SystemGraph:SeedFile at start, when set (./run.sh sets it to the demo graph). An idempotent upsert through
/// the same store as the API: unchanged nodes and edges create no new graph version, so restarts leave the
/// version where it was. An invalid file stops the start with every error listed.
/// </summary>
public sealed partial class GraphSeeder(GraphStore store, IConfiguration configuration, ILogger<GraphSeeder> logger) : IHostedService
{
    public const string Actor = "system:seed";
    public const string SeedFileKey = "SystemGraph:SeedFile";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (configuration[SeedFileKey] is not { Length: > 0 } configured)
        {
            return;
        }

        var path = Resolve(configured);
        GraphSeed seed;
        await using (var stream = File.OpenRead(path))
        {
            seed = await JsonSerializer.DeserializeAsync<GraphSeed>(stream, ContractJson.Options, cancellationToken)
                ?? throw new InvalidOperationException($"Seed file {path} is empty.");
        }

        var (nodes, edges) = Validate(seed, path);
        var changed = 0;
        foreach (var node in nodes)
        {
            changed += (await store.UpsertNodeAsync(node, Actor, cancellationToken)).Outcome == WriteOutcome.Unchanged ? 0 : 1;
        }

        foreach (var edge in edges)
        {
            var write = await store.UpsertEdgeAsync(edge, Actor, cancellationToken);
            if (write.Outcome == WriteOutcome.UnknownNodes)
            {
                throw new InvalidOperationException($"Seed file {path}: edge {edge} names unknown node(s) {string.Join(", ", write.UnknownNodes!)}.");
            }

            changed += write.Outcome == WriteOutcome.Unchanged ? 0 : 1;
        }

        LogSeeded(logger, path, nodes.Count, edges.Count, changed);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A relative path is tried from the working directory, then from the application's folder (where the demo graph is copied).</summary>
    private static string Resolve(string configured)
    {
        if (Path.IsPathRooted(configured) || File.Exists(configured))
        {
            return Path.GetFullPath(configured);
        }

        var besideApp = Path.Combine(AppContext.BaseDirectory, configured);
        return File.Exists(besideApp) ? besideApp : throw new FileNotFoundException(
            $"{SeedFileKey} names '{configured}', which is neither in the working directory nor in {AppContext.BaseDirectory}.", configured);
    }

    private static (List<GraphNode> Nodes, List<GraphEdge> Edges) Validate(GraphSeed seed, string path)
    {
        var problems = new List<string>();
        var nodes = new List<GraphNode>();
        foreach (var (entry, i) in (seed.Nodes ?? []).Select((n, i) => (n, i)))
        {
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            var id = GraphSeed.IdOf(entry);
            NodeBody body;
            try
            {
                body = GraphSeed.BodyOf(entry);
            }
            catch (JsonException ex)
            {
                problems.Add($"nodes[{i}] ({id}): {ex.Message}");
                continue;
            }

            if (GraphValidation.ToNode(id ?? string.Empty, body, errors) is { } node)
            {
                nodes.Add(node);
            }

            problems.AddRange(errors.SelectMany(e => e.Value.Select(m => $"nodes[{i}] ({id}).{e.Key}: {m}")));
        }

        var edges = new List<GraphEdge>();
        foreach (var (entry, i) in (seed.Edges ?? []).Select((e, i) => (e, i)))
        {
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            if (GraphValidation.ToEdge(entry, errors) is { } edge)
            {
                edges.Add(edge);
            }

            problems.AddRange(errors.SelectMany(e => e.Value.Select(m => $"edges[{i}].{e.Key}: {m}")));
        }

        problems.AddRange(nodes.GroupBy(n => n.Id, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"node '{g.Key}' appears more than once."));
        return problems.Count == 0
            ? (nodes, edges)
            : throw new InvalidOperationException($"Seed file {path} is invalid:{Environment.NewLine}{string.Join(Environment.NewLine, problems)}");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied graph seed {Path}: {Nodes} nodes, {Edges} edges, {Changed} changed")]
    private static partial void LogSeeded(ILogger logger, string path, int nodes, int edges, int changed);
}
