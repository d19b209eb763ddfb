using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// `controlplane graph import backstage &lt;folder|file&gt; [--dry-run]`: sends every catalog YAML file to system-graph,
/// which applies it as one graph version; prints the diff (added, changed, removed) and the warnings.
/// Exit 0 on success, 1 when the plane refuses (each catalog problem printed), 2 when the files cannot be read.
/// </summary>
public static class GraphImportCommand
{
    public const int Unreadable = 2;

    /// <param name="console">Where output goes (tests pass a recording console); the terminal by default.</param>
    public static Command Create(IAnsiConsole? console = null)
    {
        var output = console ?? AnsiConsole.Console;
        var common = new CommonOptions();
        var path = new Argument<string>("path") { Description = "A catalog-info.yaml file, or a folder: every *.yaml and *.yml file under it is sent." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Show the diff the import would make, and write nothing." };
        var backstage = new Command("backstage", "Import Backstage catalog-info.yaml entities (Component, API, Resource, System, Group) as ONE new graph version.");
        backstage.Arguments.Add(path);
        backstage.Options.Add(dryRun);
        common.AddTo(backstage);
        backstage.SetAction(async (result, ct) =>
        {
            IReadOnlyList<(string Path, string Content)> files;
            try
            {
                files = await CatalogFiles.ReadAsync(result.GetValue(path)!, ct);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
            {
                output.MarkupLineInterpolated($"[red]{ex.Message}[/]");
                return Unreadable;
            }

            using var client = common.Client(result);
            JsonNode answer;
            try
            {
                var query = result.GetValue(dryRun) ? "?dryRun=true" : "";
                answer = await client.PostAsync("system-graph", $"graph/imports/backstage{query}",
                    new { files = files.Select(f => new { path = f.Path, content = f.Content }) }, ct);
            }
            catch (Exception ex) when (ex is PlaneException or HttpRequestException)
            {
                output.MarkupLineInterpolated($"[red]{ex.Message}[/]");
                return 1;
            }

            if (result.GetValue(common.Json))
            {
                output.WriteLine(answer.ToJsonString());
                return 0;
            }

            Print(output, answer, files.Count);
            return 0;
        });

        var import = new Command("import", "Import the graph from a service catalog.") { backstage };
        return new Command("graph", "The system graph: import from a service catalog.") { import };
    }

    private static void Print(IAnsiConsole console, JsonNode answer, int fileCount)
    {
        var diff = answer["diff"]!;
        var applied = answer["applied"]!.GetValue<bool>();
        var dry = answer["dryRun"]!.GetValue<bool>();
        console.MarkupLineInterpolated($"{fileCount} file(s): {answer["nodes"]} nodes, {answer["edges"]} edges in the catalog");
        foreach (var change in new[] { "added", "changed", "removed" })
        {
            var nodes = diff[change]!["nodes"]!.AsArray().Select(n => n!["id"]!.GetValue<string>()).ToList();
            var edges = diff[change]!["edges"]!.AsArray().Select(e => $"{e!["from"]}->{e["to"]}:{e["kind"]}").ToList();
            console.MarkupLineInterpolated($"{change}: {nodes.Count} node(s) {string.Join(", ", nodes)}; {edges.Count} edge(s) {string.Join(", ", edges)}");
        }

        foreach (var warning in answer["warnings"]!.AsArray())
        {
            console.MarkupLineInterpolated($"[yellow]warning: {warning!.GetValue<string>()}[/]");
        }

        var version = answer["version"]!.GetValue<long>();
        if (dry)
        {
            console.MarkupLineInterpolated($"dry run: nothing written (graph version {version})");
        }
        else if (applied)
        {
            console.MarkupLineInterpolated($"[green]imported as graph version {version}[/]");
        }
        else
        {
            console.MarkupLineInterpolated($"no change: graph version {version} already matches the catalog");
        }
    }
}

/// <summary>The YAML files of a catalog: one file, or every *.yaml / *.yml under a folder, with paths relative to it.</summary>
public static class CatalogFiles
{
    public static async Task<IReadOnlyList<(string Path, string Content)>> ReadAsync(string path, CancellationToken ct)
    {
        if (File.Exists(path))
        {
            return [(Path.GetFileName(path), await File.ReadAllTextAsync(path, ct))];
        }

        if (!Directory.Exists(path))
        {
            throw new IOException($"'{path}' is neither a file nor a folder.");
        }

        var files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            throw new IOException($"'{path}' holds no .yaml or .yml file.");
        }

        var read = new List<(string, string)>();
        foreach (var file in files)
        {
            read.Add((Path.GetRelativePath(path, file).Replace('\\', '/'), await File.ReadAllTextAsync(file, ct)));
        }

        return read;
    }
}
