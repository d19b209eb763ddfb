using ControlPlane.ServiceDefaults.Http;
using ControlPlane.ServiceDefaults.Security;
using ControlPlane.SystemGraph.Data;
using ControlPlane.SystemGraph.Deployments;
using ControlPlane.SystemGraph.Graph;

namespace ControlPlane.SystemGraph.Apis;

/// <summary>The system graph over HTTP: nodes and edges ("from depends on to"), the version log, and impact.</summary>
public static class GraphApi
{
    public const int MaxTargets = 100;

    public static IEndpointRouteBuilder MapGraphApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/graph").WithTags("Graph");

        api.MapPut("/nodes/{id}", PutNodeAsync).RequirePermission(Permissions.GraphWrite).Accepts<NodeBody>("application/json")
            .WithSummary("Create or update a node; 201 when created, 200 when updated or unchanged");
        api.MapDelete("/nodes/{id}", DeleteNodeAsync).RequirePermission(Permissions.GraphWrite)
            .WithSummary("Delete a node; 409 while edges reference it unless ?cascade=true");
        api.MapGet("/nodes", ListNodesAsync).RequirePermission(Permissions.GraphRead)
            .WithSummary("Every node of the current graph version");
        api.MapGet("/nodes/{id}", GetNodeAsync).RequirePermission(Permissions.GraphRead)
            .WithSummary("A node with the edges from and to it");
        api.MapPut("/edges", PutEdgeAsync).RequirePermission(Permissions.GraphWrite).Accepts<EdgeBody>("application/json")
            .WithSummary("Create an edge (from depends on to); 201 when created, 200 when it existed");
        api.MapDelete("/edges", DeleteEdgeAsync).RequirePermission(Permissions.GraphWrite)
            .WithSummary("Delete the edge ?from=&to=&kind= (every kind when kind is omitted)");
        api.MapGet("/edges", ListEdgesAsync).RequirePermission(Permissions.GraphRead)
            .WithSummary("Every edge of the current graph version");
        api.MapGet("/versions", ListVersionsAsync).RequirePermission(Permissions.GraphRead)
            .WithSummary("The latest graph versions: what changed, who, when");
        api.MapGet("/impact", ImpactAsync).RequirePermission(Permissions.GraphRead)
            .WithSummary("The blast radius of changing ?targets=a,b against the current graph version; with &environment=, open deployment drift there too");
        api.MapGet("/reachability", ReachabilityAsync).RequirePermission(Permissions.GraphRead)
            .WithSummary("Which nodes outside traffic reaches in the current graph version, each with its shortest path from an entry");
        return app;
    }

    private static async Task<IResult> PutNodeAsync(string id, HttpContext http, GraphStore store, CancellationToken ct)
    {
        var body = await http.Request.ReadJsonBodyAsync<NodeBody>(ct);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (GraphValidation.ToNode(id, body.Value!, errors) is not { } node)
        {
            return Results.ValidationProblem(errors);
        }

        var write = await store.UpsertNodeAsync(node, http.GetCaller().Id, ct);
        return write.Outcome == WriteOutcome.Created ? Results.Created($"/graph/nodes/{id}", write.Node) : Results.Ok(write.Node);
    }

    private static async Task<IResult> DeleteNodeAsync(string id, bool? cascade, HttpContext http, GraphStore store, CancellationToken ct)
    {
        var write = await store.DeleteNodeAsync(id, cascade ?? false, http.GetCaller().Id, ct);
        return write.Outcome switch
        {
            WriteOutcome.NotFound => UnknownNode(id),
            WriteOutcome.Conflict => Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Node is referenced by edges",
                detail: $"{write.Edges!.Count} edge(s) reference '{id}'. Delete them first, or repeat with ?cascade=true to delete them with the node.",
                extensions: new Dictionary<string, object?> { ["edges"] = write.Edges }),
            _ => Results.Ok(new { deleted = id, version = write.Version, removedEdges = write.Edges }),
        };
    }

    private static async Task<IResult> ListNodesAsync(GraphStore store, CancellationToken ct)
    {
        var (version, nodes, _) = await store.ReadGraphAsync(ct);
        return Results.Ok(new { version, nodes });
    }

    private static async Task<IResult> GetNodeAsync(string id, GraphStore store, CancellationToken ct) =>
        await store.FindNodeAsync(id, ct) is { } detail
            ? Results.Ok(new { detail.Node, detail.DependsOn, detail.Dependents })
            : UnknownNode(id);

    private static async Task<IResult> PutEdgeAsync(HttpContext http, GraphStore store, CancellationToken ct)
    {
        var body = await http.Request.ReadJsonBodyAsync<EdgeBody>(ct);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (GraphValidation.ToEdge(body.Value!, errors) is not { } edge)
        {
            return Results.ValidationProblem(errors);
        }

        var write = await store.UpsertEdgeAsync(edge, http.GetCaller().Id, ct);
        if (write.Outcome == WriteOutcome.UnknownNodes)
        {
            foreach (var (field, nodeId) in new[] { ("from", edge.From), ("to", edge.To) }.Where(f => write.UnknownNodes!.Contains(f.Item2)))
            {
                errors[field] = [$"node '{nodeId}' is not in graph version {write.Version}."];
            }

            return Results.ValidationProblem(errors);
        }

        var resource = new { edge.From, edge.To, edge.Kind, write.Version };
        return write.Outcome == WriteOutcome.Created ? Results.Created("/graph/edges", resource) : Results.Ok(resource);
    }

    private static async Task<IResult> DeleteEdgeAsync(string? from, string? to, string? kind, HttpContext http, GraphStore store, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        GraphValidation.CheckEndpoints(from, to, errors);
        if (kind is not null && !GraphVocabulary.EdgeKinds.Contains(kind))
        {
            errors["kind"] = [$"kind must be one of {string.Join(", ", GraphVocabulary.EdgeKinds.Order(StringComparer.Ordinal))}, or omitted for every kind."];
        }

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        var write = await store.DeleteEdgeAsync(from!, to!, kind, http.GetCaller().Id, ct);
        return write.Outcome == WriteOutcome.NotFound
            ? Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown edge", detail: $"No edge {from} -> {to}{(kind is null ? "" : $" of kind '{kind}'")}.")
            : Results.Ok(new { version = write.Version, removedEdges = write.Edges });
    }

    private static async Task<IResult> ListEdgesAsync(GraphStore store, CancellationToken ct)
    {
        var (version, _, edges) = await store.ReadGraphAsync(ct);
        return Results.Ok(new { version, edges });
    }

    private static async Task<IResult> ListVersionsAsync(int? limit, GraphStore store, CancellationToken ct)
    {
        if (limit is < 1 or > 1000)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = ["limit must be between 1 and 1000."] });
        }

        return Results.Ok(await store.ListVersionsAsync(limit ?? 50, ct));
    }

    private static async Task<IResult> ImpactAsync(string? environment, HttpContext http, GraphSnapshotCache graph, DeploymentStore deployments, TimeProvider time, CancellationToken ct)
    {
        var targets = GraphValidation.SplitTargets(http.Request.Query["targets"]);
        if (targets.Count is 0 or > MaxTargets)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]>
            {
                ["targets"] = [$"targets is required: 1 to {MaxTargets} node ids, comma-separated (?targets=billing,checkout)."],
            });
        }

        var snapshot = await graph.GetAsync(ct);
        var report = ImpactReachability.Assess(snapshot, targets, time.GetUtcNow());
        return Results.Ok(string.IsNullOrWhiteSpace(environment)
            ? report
            : DeploymentDrift.Apply(report, await deployments.OpenDriftAsync(targets, environment, ct)));
    }

    private static async Task<IResult> ReachabilityAsync(GraphSnapshotCache graph, CancellationToken ct)
    {
        var snapshot = await graph.GetAsync(ct);
        var reachability = snapshot.Reachability;
        var reachable = new List<ReachableNode>(reachability.ReachableCount);
        var unreachable = new List<string>(snapshot.NodeCount - reachability.ReachableCount);
        for (var i = 0; i < snapshot.NodeCount; i++)
        {
            if (reachability.PathTo(i) is { } path)
            {
                reachable.Add(new ReachableNode(snapshot[i].Id, path));
            }
            else
            {
                unreachable.Add(snapshot[i].Id);
            }
        }

        return Results.Ok(new ReachabilityView(snapshot.Version, [.. reachability.Entries.Select(e => snapshot[e].Id)], reachable, unreachable));
    }

    private static IResult UnknownNode(string id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown node", detail: $"No node '{id}' in the graph.");
}

/// <summary>GET /graph/reachability: the entries, every reachable node with its shortest path (entry first), the rest.</summary>
public sealed record ReachabilityView(long Version, IReadOnlyList<string> Entries, IReadOnlyList<ReachableNode> Reachable, IReadOnlyList<string> Unreachable);

public sealed record ReachableNode(string NodeId, IReadOnlyList<string> Path);
