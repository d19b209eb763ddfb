using ControlPlane.SystemGraph.Apis;
using ControlPlane.SystemGraph.Data;

namespace ControlPlane.SystemGraph.Catalog;

/// <summary>The YAML files of a catalog folder (or one file), with paths relative to it for messages.</summary>
public static class CatalogFolder
{
    public static IReadOnlyList<CatalogFile> Read(string path)
    {
        if (File.Exists(path))
        {
            return [new CatalogFile(Path.GetFileName(path), File.ReadAllText(path))];
        }

        return Directory.Exists(path)
            ? [.. Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal)
                .Select(f => new CatalogFile(Path.GetRelativePath(path, f).Replace('\\', '/'), File.ReadAllText(f)))]
            : throw new FileNotFoundException($"'{path}' is neither a catalog file nor a folder.", path);
    }
}

/// <summary>
/// Imports SystemGraph:SeedCatalog (a Backstage catalog folder, e.g. catalog/demo) at start, when set, exactly as
/// POST /graph/imports/backstage would: one graph version, none when the graph already matches. An invalid catalog
/// stops the start with every problem listed.
/// </summary>
public sealed partial class CatalogSeeder(GraphStore store, IConfiguration configuration, ILogger<CatalogSeeder> logger) : IHostedService
{
    public const string SeedCatalogKey = "SystemGraph:SeedCatalog";
    public const string Actor = "system:seed-catalog";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (configuration[SeedCatalogKey] is not { Length: > 0 } path)
        {
            return;
        }

        var (graph, problems) = BackstageMapper.Load(CatalogFolder.Read(path));
        if (graph is null)
        {
            throw new InvalidOperationException($"{SeedCatalogKey} {path} is invalid:{Environment.NewLine}{string.Join(Environment.NewLine, problems)}");
        }

        var outcome = await store.ImportAsync(CatalogImportApi.BackstageSource, graph, dryRun: false, Actor, cancellationToken);
        LogSeeded(logger, path, graph.Nodes.Count, graph.Edges.Count, outcome.Version, outcome.Applied);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Imported seed catalog {Path}: {Nodes} nodes, {Edges} edges; graph version {Version} (changed: {Applied})")]
    private static partial void LogSeeded(ILogger logger, string path, int nodes, int edges, long version, bool applied);
}
