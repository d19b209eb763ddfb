using System.Data;
using System.Text.Json;
using System.Text.Json.Serialization;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.SystemGraph.Graph;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.SystemGraph.Data;

/// <summary>A node as stored: its attributes and the graph version that last wrote it.</summary>
public sealed record StoredNode(
    string Id,
    string Kind,
    string Name,
    string Team,
    int CriticalityTier,
    bool RevenuePath,
    IReadOnlyList<string> DataClasses,
    bool InternetExposed,
    long Version,
    string UpdatedBy,
    DateTimeOffset UpdatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ValidationSuite>? Suites = null)
{
    public GraphNode ToNode() => new(Id, Kind, Name, Team, CriticalityTier, RevenuePath, DataClasses, InternetExposed, Suites);
}

/// <summary>An edge as stored; Flow is how traffic moves along it (migration 0004 derived it for older edges).</summary>
public sealed record StoredEdge(string From, string To, string Kind, long Version, string UpdatedBy, DateTimeOffset UpdatedAt, string Flow)
{
    public GraphEdge ToEdge() => new(From, To, Kind, Flow);
}

public sealed record NodeDetail(StoredNode Node, IReadOnlyList<StoredEdge> DependsOn, IReadOnlyList<StoredEdge> Dependents);

public sealed record GraphVersionEntry(long Version, string Change, string Subject, JsonElement Detail, string ChangedBy, DateTimeOffset ChangedAt);

public enum WriteOutcome
{
    Created,
    Updated,
    Unchanged,
    Deleted,
    NotFound,
    Conflict,
    UnknownNodes,
}

/// <summary>What a write did. Version is the new graph version, or the current one when nothing changed.</summary>
public sealed record GraphWrite(WriteOutcome Outcome, long Version, StoredNode? Node = null, IReadOnlyList<GraphEdge>? Edges = null, IReadOnlyList<string>? UnknownNodes = null);

/// <summary>
/// graph-db: nodes, edges and the version log. Every write runs in one transaction that holds the graph_head row
/// lock (so writers are serialized and versions follow commit order), bumps the version only when something
/// actually changes, and enqueues <see cref="GraphChanged"/> through the outbox.
/// </summary>
public sealed partial class GraphStore(NpgsqlDataSource dataSource, TimeProvider time)
{
    private const string NodeColumns = "id, kind, name, team, criticality_tier, revenue_path, data_classes, internet_exposed, version, updated_by, updated_at, suites";
    private const string EdgeColumns = "from_id, to_id, kind, version, updated_by, updated_at, flow";

    public async Task<GraphWrite> UpsertNodeAsync(GraphNode node, string actor, CancellationToken cancellationToken)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        var current = await LockHeadAsync(work, cancellationToken);
        var existing = await ReadNodeAsync(work, node.Id, cancellationToken);
        if (existing is not null && existing.ToNode().SameAttributesAs(node))
        {
            return new GraphWrite(WriteOutcome.Unchanged, current, existing);
        }

        var change = existing is null ? "node-created" : "node-updated";
        var (version, at) = await BumpAsync(work, change, node.Id, node, actor, cancellationToken);
        await using (var upsert = await work.CommandAsync($"""
            insert into graph_nodes ({NodeColumns}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            on conflict (id) do update set kind = excluded.kind, name = excluded.name, team = excluded.team,
                criticality_tier = excluded.criticality_tier, revenue_path = excluded.revenue_path, data_classes = excluded.data_classes,
                internet_exposed = excluded.internet_exposed, version = excluded.version, updated_by = excluded.updated_by, updated_at = excluded.updated_at,
                suites = excluded.suites
            """))
        {
            Add(upsert, node.Id, node.Kind, node.Name, node.Team, (short)node.CriticalityTier, node.RevenuePath, node.DataClasses.ToArray(),
                node.InternetExposed, version, actor, at, SuitesJson(node.SuitesOrEmpty));
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        await work.EnqueueAsync(new GraphChanged(version, change, node.Id, actor, at), cancellationToken);
        await work.CommitAsync(cancellationToken);
        var stored = new StoredNode(node.Id, node.Kind, node.Name, node.Team, node.CriticalityTier, node.RevenuePath, node.DataClasses,
            node.InternetExposed, version, actor, at, node.Suites);
        return new GraphWrite(existing is null ? WriteOutcome.Created : WriteOutcome.Updated, version, stored);
    }

    /// <summary>Deletes a node; refuses (Conflict, with the edges) while edges reference it unless <paramref name="cascade"/>.</summary>
    public async Task<GraphWrite> DeleteNodeAsync(string id, bool cascade, string actor, CancellationToken cancellationToken)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        var current = await LockHeadAsync(work, cancellationToken);
        var existing = await ReadNodeAsync(work, id, cancellationToken);
        if (existing is null)
        {
            return new GraphWrite(WriteOutcome.NotFound, current);
        }

        var edges = (await ReadEdgesAsync(work, "from_id = $1 or to_id = $1", id, cancellationToken))
            .Select(e => e.ToEdge()).ToList();
        if (edges.Count > 0 && !cascade)
        {
            return new GraphWrite(WriteOutcome.Conflict, current, existing, edges);
        }

        var (version, at) = await BumpAsync(work, "node-deleted", id, new { node = existing.ToNode(), removedEdges = edges }, actor, cancellationToken);
        await using (var deleteEdges = await work.CommandAsync("delete from graph_edges where from_id = $1 or to_id = $1"))
        {
            Add(deleteEdges, id);
            await deleteEdges.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var deleteNode = await work.CommandAsync("delete from graph_nodes where id = $1"))
        {
            Add(deleteNode, id);
            await deleteNode.ExecuteNonQueryAsync(cancellationToken);
        }

        await work.EnqueueAsync(new GraphChanged(version, "node-deleted", id, actor, at), cancellationToken);
        await work.CommitAsync(cancellationToken);
        return new GraphWrite(WriteOutcome.Deleted, version, existing, edges);
    }

    public async Task<GraphWrite> UpsertEdgeAsync(GraphEdge edge, string actor, CancellationToken cancellationToken)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        var current = await LockHeadAsync(work, cancellationToken);
        var known = new HashSet<string>(StringComparer.Ordinal);
        await using (var find = await work.CommandAsync("select id from graph_nodes where id = any($1)"))
        {
            Add(find, (object)new[] { edge.From, edge.To }); // one array parameter, not two
            await using var reader = await find.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                known.Add(reader.GetString(0));
            }
        }

        var unknown = new[] { edge.From, edge.To }.Where(n => !known.Contains(n)).Distinct(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            return new GraphWrite(WriteOutcome.UnknownNodes, current, UnknownNodes: unknown);
        }

        var existing = await ReadEdgesAsync(work, "from_id = $1 and to_id = $2 and kind = $3", [edge.From, edge.To, edge.Kind], cancellationToken);
        if (existing.Count > 0 && existing[0].Flow == edge.Flow)
        {
            return new GraphWrite(WriteOutcome.Unchanged, current, Edges: [edge]);
        }

        if (existing.Count > 0)
        {
            // Only the flow differs: the same edge, re-described (a new version, like a node whose attributes change).
            var (updated, updatedAt) = await BumpAsync(work, "edge-updated", edge.ToString(), new { before = existing[0].ToEdge(), after = edge }, actor, cancellationToken);
            await ExecuteAsync(work, "update graph_edges set flow = $4, version = $5, updated_by = $6, updated_at = $7 where from_id = $1 and to_id = $2 and kind = $3",
                cancellationToken, edge.From, edge.To, edge.Kind, edge.Flow!, updated, actor, updatedAt);
            await work.EnqueueAsync(new GraphChanged(updated, "edge-updated", edge.ToString(), actor, updatedAt), cancellationToken);
            await work.CommitAsync(cancellationToken);
            return new GraphWrite(WriteOutcome.Updated, updated, Edges: [edge]);
        }

        var (version, at) = await BumpAsync(work, "edge-created", edge.ToString(), edge, actor, cancellationToken);
        await using (var insert = await work.CommandAsync($"insert into graph_edges ({EdgeColumns}) values ($1, $2, $3, $4, $5, $6, $7)"))
        {
            Add(insert, edge.From, edge.To, edge.Kind, version, actor, at, edge.Flow!);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await work.EnqueueAsync(new GraphChanged(version, "edge-created", edge.ToString(), actor, at), cancellationToken);
        await work.CommitAsync(cancellationToken);
        return new GraphWrite(WriteOutcome.Created, version, Edges: [edge]);
    }

    /// <summary>Deletes the edge of that kind, or every edge from → to when <paramref name="kind"/> is null.</summary>
    public async Task<GraphWrite> DeleteEdgeAsync(string from, string to, string? kind, string actor, CancellationToken cancellationToken)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        var current = await LockHeadAsync(work, cancellationToken);
        var edges = (kind is null
                ? await ReadEdgesAsync(work, "from_id = $1 and to_id = $2", [from, to], cancellationToken)
                : await ReadEdgesAsync(work, "from_id = $1 and to_id = $2 and kind = $3", [from, to, kind], cancellationToken))
            .Select(e => e.ToEdge()).ToList();
        if (edges.Count == 0)
        {
            return new GraphWrite(WriteOutcome.NotFound, current);
        }

        var subject = edges.Count == 1 ? edges[0].ToString() : $"{from}->{to}";
        var (version, at) = await BumpAsync(work, "edge-deleted", subject, new { removedEdges = edges }, actor, cancellationToken);
        await using (var delete = await work.CommandAsync("delete from graph_edges where from_id = $1 and to_id = $2 and kind = any($3)"))
        {
            Add(delete, from, to, edges.Select(e => e.Kind).ToArray());
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        await work.EnqueueAsync(new GraphChanged(version, "edge-deleted", subject, actor, at), cancellationToken);
        await work.CommitAsync(cancellationToken);
        return new GraphWrite(WriteOutcome.Deleted, version, Edges: edges);
    }

    public const string HeadVersionSql = "select version from graph_head where id = 1";

    public async Task<long> HeadVersionAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(HeadVersionSql);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Nodes, edges and the version read in one repeatable-read transaction: a consistent graph version.</summary>
    public async Task<(long Version, IReadOnlyList<StoredNode> Nodes, IReadOnlyList<StoredEdge> Edges)> ReadGraphAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        long version;
        await using (var head = new NpgsqlCommand("select version from graph_head where id = 1", connection, tx))
        {
            version = (long)(await head.ExecuteScalarAsync(cancellationToken))!;
        }

        var nodes = await ReadNodesAsync(new NpgsqlCommand($"select {NodeColumns} from graph_nodes order by id", connection, tx), cancellationToken);
        var edges = await ReadEdgesAsync(new NpgsqlCommand($"select {EdgeColumns} from graph_edges order by from_id, to_id, kind", connection, tx), cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return (version, nodes, edges);
    }

    public async Task<NodeDetail?> FindNodeAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var found = await ReadNodesAsync(Bind(new NpgsqlCommand($"select {NodeColumns} from graph_nodes where id = $1", connection, tx), id), cancellationToken);
        if (found.Count == 0)
        {
            return null;
        }

        var dependsOn = await ReadEdgesAsync(Bind(new NpgsqlCommand($"select {EdgeColumns} from graph_edges where from_id = $1 order by to_id, kind", connection, tx), id), cancellationToken);
        var dependents = await ReadEdgesAsync(Bind(new NpgsqlCommand($"select {EdgeColumns} from graph_edges where to_id = $1 order by from_id, kind", connection, tx), id), cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return new NodeDetail(found[0], dependsOn, dependents);
    }

    public async Task<IReadOnlyList<GraphVersionEntry>> ListVersionsAsync(int limit, CancellationToken cancellationToken)
    {
        var command = dataSource.CreateCommand(
            "select version, change, subject, detail::text, changed_by, changed_at from graph_versions order by version desc limit $1");
        Add(command, limit);
        return await ReadAllAsync(command, reader =>
        {
            using var detail = JsonDocument.Parse(reader.GetString(3));
            return new GraphVersionEntry(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), detail.RootElement.Clone(),
                reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5));
        }, cancellationToken);
    }

    /// <summary>Records an assessment in the consumer's unit of work (same transaction as its inbox row and outbox message).</summary>
    /// <summary>Held back with the unit's other writes (<see cref="UnitOfWork.Defer"/>).</summary>
    public static void RecordAssessment(UnitOfWork work, Guid proposalId, ImpactReport report)
    {
        var insert = work.Defer("insert into impact_assessments (proposal_id, graph_version, report, assessed_at) values ($1, $2, $3, $4)");
        insert.Parameters.Add(new() { Value = proposalId });
        insert.Parameters.Add(new() { Value = report.GraphVersion });
        insert.Parameters.Add(new() { Value = JsonSerializer.Serialize(report, ContractJson.Options), NpgsqlDbType = NpgsqlDbType.Jsonb });
        insert.Parameters.Add(new() { Value = report.AssessedAt });
    }

    private static async Task<long> LockHeadAsync(UnitOfWork work, CancellationToken cancellationToken)
    {
        await using var command = await work.CommandAsync("select version from graph_head where id = 1 for update");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private async Task<(long Version, DateTimeOffset At)> BumpAsync(UnitOfWork work, string change, string subject, object detail, string actor,
        CancellationToken cancellationToken)
    {
        var at = time.GetUtcNow();
        long version;
        await using (var bump = await work.CommandAsync("update graph_head set version = version + 1 where id = 1 returning version"))
        {
            version = (long)(await bump.ExecuteScalarAsync(cancellationToken))!;
        }

        await using var record = await work.CommandAsync("insert into graph_versions (version, change, subject, detail, changed_by, changed_at) values ($1, $2, $3, $4, $5, $6)");
        Add(record, version, change, subject);
        record.Parameters.Add(new() { Value = JsonSerializer.Serialize(detail, ContractJson.Options), NpgsqlDbType = NpgsqlDbType.Jsonb });
        Add(record, actor, at);
        await record.ExecuteNonQueryAsync(cancellationToken);
        return (version, at);
    }

    private static async Task<StoredNode?> ReadNodeAsync(UnitOfWork work, string id, CancellationToken cancellationToken)
    {
        var nodes = await ReadNodesAsync(Bind(await work.CommandAsync($"select {NodeColumns} from graph_nodes where id = $1"), id), cancellationToken);
        return nodes.Count == 0 ? null : nodes[0];
    }

    private static Task<List<StoredEdge>> ReadEdgesAsync(UnitOfWork work, string where, string id, CancellationToken cancellationToken) =>
        ReadEdgesAsync(work, where, [id], cancellationToken);

    private static async Task<List<StoredEdge>> ReadEdgesAsync(UnitOfWork work, string where, string[] values, CancellationToken cancellationToken)
    {
        var command = await work.CommandAsync($"select {EdgeColumns} from graph_edges where {where} order by from_id, to_id, kind");
        Add(command, values);
        return await ReadEdgesAsync(command, cancellationToken);
    }

    private static Task<List<StoredNode>> ReadNodesAsync(NpgsqlCommand command, CancellationToken cancellationToken) =>
        ReadAllAsync(command, reader => new StoredNode(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
            reader.GetInt16(4), reader.GetBoolean(5), reader.GetFieldValue<string[]>(6), reader.GetBoolean(7), reader.GetInt64(8),
            reader.GetString(9), reader.GetFieldValue<DateTimeOffset>(10), ReadSuites(reader.GetString(11))), cancellationToken);

    private static Task<List<StoredEdge>> ReadEdgesAsync(NpgsqlCommand command, CancellationToken cancellationToken) =>
        ReadAllAsync(command, reader => new StoredEdge(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
            reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5), reader.GetString(6)), cancellationToken);

    /// <summary>The suites column: jsonb, "[]" for none.</summary>
    private static NpgsqlParameter SuitesJson(IReadOnlyList<ValidationSuite> suites) =>
        new() { Value = JsonSerializer.Serialize(suites, ContractJson.Options), NpgsqlDbType = NpgsqlDbType.Jsonb };

    /// <summary>Null for none, so a node without suites reads back exactly as it was written.</summary>
    internal static IReadOnlyList<ValidationSuite>? ReadSuites(string json) =>
        JsonSerializer.Deserialize<List<ValidationSuite>>(json, ContractJson.Options) is { Count: > 0 } suites ? suites : null;

    /// <summary>Runs the command (and disposes it) and maps every row.</summary>
    private static async Task<List<T>> ReadAllAsync<T>(NpgsqlCommand command, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
    {
        await using (command)
        {
            var rows = new List<T>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(map(reader));
            }

            return rows;
        }
    }

    private static NpgsqlCommand Bind(NpgsqlCommand command, params object[] values)
    {
        Add(command, values);
        return command;
    }

    private static void Add(NpgsqlCommand command, params object[] values)
    {
        foreach (var value in values)
        {
            command.Parameters.Add(value as NpgsqlParameter ?? new() { Value = value });
        }
    }
}
