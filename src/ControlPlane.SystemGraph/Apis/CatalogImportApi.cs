using System.Text;
using ControlPlane.ServiceDefaults.Http;
using ControlPlane.ServiceDefaults.Security;
using ControlPlane.SystemGraph.Catalog;
using ControlPlane.SystemGraph.Data;

namespace ControlPlane.SystemGraph.Apis;

/// <summary>The body of POST /graph/imports/backstage as JSON: the catalog's files (path for messages, YAML text).</summary>
public sealed record CatalogImportBody(IReadOnlyList<CatalogFileBody?>? Files);

public sealed record CatalogFileBody(string? Path, string? Content);

/// <summary>Service catalog import: a Backstage catalog becomes one graph version, with a diff and a dry run.</summary>
public static class CatalogImportApi
{
    public const string BackstageSource = "backstage";
    public const int MaxFiles = 2000;
    public const int MaxBytes = 8 * 1024 * 1024;

    private static readonly string[] YamlTypes = ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"];

    public static IEndpointRouteBuilder MapCatalogImportApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/graph/imports/backstage", ImportBackstageAsync).WithTags("Graph").RequirePermission(Permissions.GraphWrite)
            .WithSummary("Import Backstage catalog-info.yaml entities as one graph version (?dryRun=true writes nothing); JSON {files:[{path,content}]} or one YAML document stream");
        return app;
    }

    private static async Task<IResult> ImportBackstageAsync(bool? dryRun, HttpContext http, GraphStore store, CancellationToken ct)
    {
        var files = await ReadFilesAsync(http.Request, ct);
        if (files.Problem is not null)
        {
            return files.Problem;
        }

        var (graph, problems) = BackstageMapper.Load(files.Value!);
        if (graph is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid catalog",
                detail: $"{problems.Count} problem(s); the first: {problems[0]}",
                extensions: new Dictionary<string, object?> { ["problems"] = problems });
        }

        var outcome = await store.ImportAsync(BackstageSource, graph, dryRun ?? false, http.GetCaller().Id, ct);
        var diff = outcome.Diff;
        return Results.Ok(new
        {
            dryRun = dryRun ?? false,
            applied = outcome.Applied,
            version = outcome.Version,
            nodes = graph.Nodes.Count,
            edges = graph.Edges.Count,
            diff = new
            {
                added = new { nodes = diff.AddedNodes, edges = diff.AddedEdges },
                changed = new { nodes = diff.ChangedNodes, edges = diff.ChangedEdges },
                removed = new { nodes = diff.RemovedNodes, edges = diff.RemovedEdges },
            },
            warnings = graph.Warnings,
        });
    }

    private static async Task<JsonBody<IReadOnlyList<CatalogFile>>> ReadFilesAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBytes)
        {
            return Bad("body", $"a catalog import is at most {MaxBytes / (1024 * 1024)} MiB.");
        }

        var mediaType = request.ContentType?.Split(';')[0].Trim();
        if (YamlTypes.Contains(mediaType, StringComparer.OrdinalIgnoreCase))
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var text = await reader.ReadToEndAsync(ct);
            return text.Length > MaxBytes ? Bad("body", $"a catalog import is at most {MaxBytes / (1024 * 1024)} MiB.") : new([new CatalogFile("catalog-info.yaml", text)], null);
        }

        var body = await request.ReadJsonBodyAsync<CatalogImportBody>(ct);
        if (body.Problem is not null)
        {
            return new(null, body.Problem);
        }

        if (body.Value!.Files is not { Count: > 0 and <= MaxFiles } list)
        {
            return Bad("files", $"files is required: 1 to {MaxFiles} entries {{path, content}} (or send one YAML file as application/yaml).");
        }

        var files = new List<CatalogFile>();
        foreach (var (file, i) in list.Select((f, i) => (f, i)))
        {
            if (file is not { Content: not null } || string.IsNullOrWhiteSpace(file.Path))
            {
                return Bad($"files[{i}]", "each file needs a path (used in messages) and its YAML content.");
            }

            files.Add(new CatalogFile(file.Path, file.Content));
        }

        return files.Sum(f => (long)f.Content.Length) > MaxBytes ? Bad("files", $"a catalog import is at most {MaxBytes / (1024 * 1024)} MiB.") : new(files, null);
    }

    private static JsonBody<IReadOnlyList<CatalogFile>> Bad(string field, string message) =>
        new(null, Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }));
}
