using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Data;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.SystemGraph.Deployments;

/// <summary>A recorded deployment of a node to an environment. GovernedBy is the plane's proposal that explains it.</summary>
public sealed record DeploymentRecord(
    long Id,
    string Source,
    string DeliveryId,
    string NodeId,
    string Environment,
    string Version,
    string? Repository,
    string Status,
    string? Actor,
    string? Url,
    DateTimeOffset DeployedAt,
    DateTimeOffset ReceivedAt,
    bool Drift,
    Guid? GovernedBy);

/// <summary>What a delivery did; Duplicate when the same delivery id was taken before (then nothing was applied again).</summary>
public sealed record DeliveryOutcome(bool Duplicate, DeploymentRecord Deployment);

/// <summary>Drift still open on a node and environment: the first ungoverned deployment since the last governed change completed.</summary>
public sealed record OpenDrift(string NodeId, string Environment, DateTimeOffset Since);

/// <summary>graph-db: deployments, webhook deliveries (dedupe) and the plane's governed changes per target.</summary>
public sealed class DeploymentStore(NpgsqlDataSource dataSource, TimeProvider time)
{
    private const string Columns = "id, source, delivery_id, node_id, environment, version, repository, status, actor, url, deployed_at, received_at, drift, governed_by";

    /// <summary>
    /// Records a delivery once: the delivery row, the deployment, and for an ungoverned success a
    /// <see cref="DeploymentDriftDetected"/> in the outbox commit together. A repeated delivery id returns what the
    /// first one recorded.
    /// </summary>
    public async Task<DeliveryOutcome> RecordAsync(string deliveryId, DeploymentEvent deployment, string nodeId, string environment,
        TimeSpan governedWindow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var now = time.GetUtcNow();
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        await using (var claim = await work.CommandAsync("insert into deployment_deliveries (source, delivery_id, received_at, outcome) values ($1, $2, $3, '{}') on conflict do nothing"))
        {
            Add(claim, deployment.Source, deliveryId, now);
            if (await claim.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return new DeliveryOutcome(true, await FindByDeliveryAsync(work, deployment.Source, deliveryId, cancellationToken)
                    ?? throw new InvalidOperationException($"Delivery {deployment.Source}/{deliveryId} was taken but recorded no deployment."));
            }
        }

        Guid? governedBy = null;
        if (deployment.Status == DeploymentStatus.Succeeded)
        {
            await using var governed = await work.CommandAsync("""
                select proposal_id from governed_changes
                where environment = $1 and $2 = any(targets) and executing_at is not null
                  and executing_at <= $3 + $4 and coalesce(finished_at, 'infinity') >= $3 - $4
                order by executing_at desc limit 1
                """);
            Add(governed, environment, nodeId, deployment.At, governedWindow);
            governedBy = await governed.ExecuteScalarAsync(cancellationToken) as Guid?;
        }

        var drift = deployment.Status == DeploymentStatus.Succeeded && governedBy is null;
        long id;
        await using (var insert = await work.CommandAsync($"""
            insert into deployments (source, delivery_id, node_id, environment, version, repository, status, actor, url, deployed_at, received_at, drift, governed_by)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) returning id
            """))
        {
            Add(insert, deployment.Source, deliveryId, nodeId, environment, deployment.Version);
            AddNullable(insert, deployment.Repository);
            Add(insert, deployment.Status);
            AddNullable(insert, deployment.Actor);
            AddNullable(insert, deployment.Url);
            Add(insert, deployment.At, now, drift);
            insert.Parameters.Add(new() { Value = (object?)governedBy ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            id = (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
        }

        var record = new DeploymentRecord(id, deployment.Source, deliveryId, nodeId, environment, deployment.Version, deployment.Repository,
            deployment.Status, deployment.Actor, deployment.Url, deployment.At, now, drift, governedBy);
        await using (var outcome = await work.CommandAsync("update deployment_deliveries set outcome = $3 where source = $1 and delivery_id = $2"))
        {
            Add(outcome, deployment.Source, deliveryId);
            outcome.Parameters.Add(new() { Value = JsonSerializer.Serialize(new { deploymentId = id }), NpgsqlDbType = NpgsqlDbType.Jsonb });
            await outcome.ExecuteNonQueryAsync(cancellationToken);
        }

        if (drift)
        {
            await work.EnqueueAsync(new DeploymentDriftDetected(nodeId, environment, deployment.Version, deployment.Source, deliveryId,
                deployment.Repository, deployment.Actor, deployment.Url, deployment.At, now), cancellationToken);
        }

        await work.CommitAsync(cancellationToken);
        return new DeliveryOutcome(false, record);
    }

    /// <summary>The latest deployments, newest first, optionally of one node and/or environment.</summary>
    public async Task<IReadOnlyList<DeploymentRecord>> ListAsync(string? nodeId, string? environment, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            select {Columns} from deployments where ($1::text is null or node_id = $1) and ($2::text is null or environment = $2)
            order by deployed_at desc, id desc limit $3
            """);
        AddNullable(command, nodeId);
        AddNullable(command, environment);
        Add(command, limit);
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>What is deployed where now: the latest successful deployment per node and environment.</summary>
    public async Task<IReadOnlyList<DeploymentRecord>> CurrentAsync(string? nodeId, string? environment, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            select distinct on (node_id, environment) {Columns} from deployments
            where status = 'succeeded' and ($1::text is null or node_id = $1) and ($2::text is null or environment = $2)
            order by node_id, environment, deployed_at desc, id desc
            """);
        AddNullable(command, nodeId);
        AddNullable(command, environment);
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>
    /// Drift still open on any of <paramref name="nodeIds"/> in <paramref name="environment"/>: ungoverned successful
    /// deployments later than the last governed change that completed on that node there.
    /// </summary>
    public static async Task<IReadOnlyList<OpenDrift>> OpenDriftAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction,
        IReadOnlyCollection<string> nodeIds, string? environment, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction) { BatchCommands = { OpenDriftQuery(nodeIds, environment) } };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        return await ReadOpenDriftAsync(reader, cancellationToken);
    }

    /// <summary>The query of <see cref="OpenDriftAsync(NpgsqlConnection, NpgsqlTransaction?, IReadOnlyCollection{string}, string?, CancellationToken)"/>, to send with others.</summary>
    public static NpgsqlBatchCommand OpenDriftQuery(IReadOnlyCollection<string> nodeIds, string? environment)
    {
        ArgumentNullException.ThrowIfNull(nodeIds);
        var command = new NpgsqlBatchCommand("""
            select d.node_id, d.environment, min(d.deployed_at) from deployments d
            where d.drift and d.node_id = any($1) and ($2::text is null or d.environment = $2)
              and d.deployed_at > coalesce((select max(g.finished_at) from governed_changes g
                  where g.state = 'completed' and g.environment = d.environment and d.node_id = any(g.targets)), '-infinity')
            group by d.node_id, d.environment order by d.node_id, d.environment
            """);
        command.Parameters.Add(new() { Value = nodeIds.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)environment ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        return command;
    }

    /// <summary>Reads the rows of <see cref="OpenDriftQuery"/> where the reader stands.</summary>
    public static async Task<IReadOnlyList<OpenDrift>> ReadOpenDriftAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var drift = new List<OpenDrift>();
        while (await reader.ReadAsync(cancellationToken))
        {
            drift.Add(new OpenDrift(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)));
        }

        return drift;
    }

    public async Task<IReadOnlyList<OpenDrift>> OpenDriftAsync(IReadOnlyCollection<string> nodeIds, string environment, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await OpenDriftAsync(connection, null, nodeIds, environment, cancellationToken);
    }

    public async Task<IReadOnlyList<OpenDrift>> OpenDriftAsync(string? nodeId, string? environment, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (nodeId is not null)
        {
            return await OpenDriftAsync(connection, null, [nodeId], environment, cancellationToken);
        }

        await using var nodes = new NpgsqlCommand("select distinct node_id from deployments where drift", connection);
        var ids = new List<string>();
        await using (var reader = await nodes.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetString(0));
            }
        }

        return await OpenDriftAsync(connection, null, ids, environment, cancellationToken);
    }

    /// <summary>A proposal the plane accepted: its targets and environment, so its execution can explain deployments.</summary>
    public static void RecordProposal(UnitOfWork work, ProposalSubmitted proposal)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(proposal);
        var upsert = work.Defer("""
            insert into governed_changes (proposal_id, targets, environment, state, updated_at) values ($1, $2, $3, 'submitted', $4)
            on conflict (proposal_id) do update set targets = excluded.targets, environment = excluded.environment
            """);
        Add(upsert.Parameters, proposal.ProposalId, proposal.Targets.ToArray(), proposal.Environment, proposal.SubmittedAt);
    }

    /// <summary>
    /// A lifecycle step of a proposal. Idempotent and order-tolerant: the first executing time and the first terminal
    /// state stick, so a redelivered or late event changes nothing.
    /// </summary>
    public async Task RecordStateAsync(ProposalStateChanged change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var state = JsonSerializer.SerializeToElement(change.To, ContractJson.Options).GetString()!;
        var terminal = change.To is ProposalState.Completed or ProposalState.Denied or ProposalState.Rejected or ProposalState.Expired
            or ProposalState.Failed or ProposalState.Cancelled;
        if (change.To != ProposalState.Executing && !terminal)
        {
            // Only the first executing time and the end are ever read (governed or drift; drift closed by a completion);
            // writing the steps between would cost a statement and a commit for each step of every proposal.
            return;
        }

        await using var upsert = dataSource.CreateCommand("""
            insert into governed_changes (proposal_id, targets, environment, state, executing_at, finished_at, updated_at)
            values ($1, '{}', '', $2, case when $3 then $5 end, case when $4 then $5 end, $5)
            on conflict (proposal_id) do update set
                state = case when governed_changes.finished_at is null then excluded.state else governed_changes.state end,
                executing_at = coalesce(governed_changes.executing_at, excluded.executing_at),
                finished_at = coalesce(governed_changes.finished_at, excluded.finished_at),
                updated_at = greatest(governed_changes.updated_at, excluded.updated_at)
            """);
        Add(upsert, change.ProposalId, state, change.To == ProposalState.Executing, terminal, change.At);
        await upsert.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<DeploymentRecord?> FindByDeliveryAsync(UnitOfWork work, string source, string deliveryId, CancellationToken cancellationToken)
    {
        await using var command = await work.CommandAsync($"select {Columns} from deployments where source = $1 and delivery_id = $2");
        Add(command, source, deliveryId);
        return (await ReadAsync(command, cancellationToken)).FirstOrDefault();
    }

    private static async Task<IReadOnlyList<DeploymentRecord>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<DeploymentRecord>();
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            rows.Add(new DeploymentRecord(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
                r.IsDBNull(6) ? null : r.GetString(6), r.GetString(7), r.IsDBNull(8) ? null : r.GetString(8), r.IsDBNull(9) ? null : r.GetString(9),
                r.GetFieldValue<DateTimeOffset>(10), r.GetFieldValue<DateTimeOffset>(11), r.GetBoolean(12), r.IsDBNull(13) ? null : r.GetGuid(13)));
        }

        return rows;
    }

    private static void Add(NpgsqlCommand command, params object[] values) => Add(command.Parameters, values);

    private static void Add(NpgsqlParameterCollection parameters, params object[] values)
    {
        foreach (var value in values)
        {
            parameters.Add(new() { Value = value });
        }
    }

    private static void AddNullable(NpgsqlCommand command, string? value) =>
        command.Parameters.Add(new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
}
