using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.SystemGraph.Catalog;
using ControlPlane.SystemGraph.Graph;

namespace ControlPlane.SystemGraph.Data;

/// <summary>What an import did: the diff, and the graph version after it (the current one when nothing changed or on a dry run).</summary>
public sealed record ImportOutcome(CatalogDiff Diff, long Version, bool Applied);

public sealed partial class GraphStore
{
    /// <summary>
    /// Applies a catalog as ONE graph version: under the head lock, reads the graph with each row's source, computes
    /// the diff, and (unless a dry run or nothing changes) removes, updates and adds in one transaction with one
    /// version row and one <see cref="GraphChanged"/>. A dry run or an empty diff rolls back and writes nothing.
    /// </summary>
    public async Task<ImportOutcome> ImportAsync(string source, CatalogGraph catalog, bool dryRun, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        var current = await LockHeadAsync(work, cancellationToken);
        var nodes = await ReadAllAsync(await work.CommandAsync($"select {NodeColumns}, source from graph_nodes"), r => new SourcedNode(
            new GraphNode(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt16(4), r.GetBoolean(5), r.GetFieldValue<string[]>(6), r.GetBoolean(7),
                ReadSuites(r.GetString(11))),
            r.IsDBNull(12) ? null : r.GetString(12)), cancellationToken);
        var edges = await ReadAllAsync(await work.CommandAsync("select from_id, to_id, kind, source, flow from graph_edges"), r => new SourcedEdge(
            new GraphEdge(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(4)), r.IsDBNull(3) ? null : r.GetString(3)), cancellationToken);
        var diff = CatalogDiff.Compute(source, nodes, edges, catalog);
        if (dryRun || diff.IsEmpty)
        {
            return new ImportOutcome(diff, current, Applied: false);
        }

        var subject = $"catalog:{source}";
        var (version, at) = await BumpAsync(work, "catalog-imported", subject, diff.Summary, actor, cancellationToken);
        foreach (var edge in diff.RemovedEdges)
        {
            await ExecuteAsync(work, "delete from graph_edges where from_id = $1 and to_id = $2 and kind = $3", cancellationToken, edge.From, edge.To, edge.Kind);
        }

        foreach (var node in diff.RemovedNodes)
        {
            await ExecuteAsync(work, "delete from graph_nodes where id = $1", cancellationToken, node.Id);
        }

        foreach (var node in diff.AddedNodes.Concat(diff.ChangedNodes.Select(c => c.After)))
        {
            await ExecuteAsync(work, $"""
                insert into graph_nodes ({NodeColumns}, source) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                on conflict (id) do update set kind = excluded.kind, name = excluded.name, team = excluded.team,
                    criticality_tier = excluded.criticality_tier, revenue_path = excluded.revenue_path, data_classes = excluded.data_classes,
                    internet_exposed = excluded.internet_exposed, version = excluded.version, updated_by = excluded.updated_by,
                    updated_at = excluded.updated_at, suites = excluded.suites, source = excluded.source
                """, cancellationToken, node.Id, node.Kind, node.Name, node.Team, (short)node.CriticalityTier, node.RevenuePath, node.DataClasses.ToArray(),
                node.InternetExposed, version, actor, at, SuitesJson(node.SuitesOrEmpty), source);
        }

        foreach (var edge in diff.AddedEdges.Concat(diff.ChangedEdges))
        {
            await ExecuteAsync(work, $"""
                insert into graph_edges ({EdgeColumns}, source) values ($1, $2, $3, $4, $5, $6, $7, $8)
                on conflict (from_id, to_id, kind) do update set version = excluded.version, updated_by = excluded.updated_by,
                    updated_at = excluded.updated_at, flow = excluded.flow, source = excluded.source
                """, cancellationToken, edge.From, edge.To, edge.Kind, version, actor, at, edge.Flow!, source);
        }

        await work.EnqueueAsync(new GraphChanged(version, "catalog-imported", subject, actor, at), cancellationToken);
        await work.CommitAsync(cancellationToken);
        return new ImportOutcome(diff, version, Applied: true);
    }

    private static async Task ExecuteAsync(UnitOfWork work, string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = await work.CommandAsync(sql);
        Add(command, values);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
