using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Data;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Orchestrator.Data;

/// <summary>A piece of work orchestrator asked fleet for, and what became of it.</summary>
public sealed record WorkItem(
    Guid WorkId,
    Guid ProposalId,
    WorkStep Step,
    string Name,
    string Fleet,
    string ActionKind,
    IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyDictionary<string, long> FencingTokens,
    int Attempt,
    string Status,
    string? Outcome,
    string? RunnerId,
    string? Reason,
    DateTimeOffset RequestedAt,
    DateTimeOffset DeadlineAt,
    DateTimeOffset? CompletedAt)
{
    /// <summary>sha256 of the runner's signed result (the DSSE payload), when a runner signed one.</summary>
    public string? ResultDigest { get; init; }
}

/// <summary>A lease a proposal holds or held.</summary>
public sealed record LeaseRow(string Target, string Environment, long FencingToken, DateTimeOffset AcquiredAt, DateTimeOffset? ReleasedAt);

/// <summary>Work item statuses as stored.</summary>
public static class WorkStatus
{
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string TimedOut = "timed-out";
    public const string Superseded = "superseded";
    public const string Abandoned = "abandoned";
}

/// <summary>SQL for work items and leases.</summary>
public static class WorkStore
{
    private const string Columns = """
        work_id, proposal_id, step, name, fleet, action_kind, parameters::text, fencing_tokens::text, attempt, status, outcome, runner_id,
        reason, requested_at, deadline_at, completed_at, result_digest
        """;

    public static string StepName(WorkStep step) => Lifecycle.Trigger.Kebab(step.ToString());

    public static async Task InsertAsync(UnitOfWork work, WorkItem item, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("""
            insert into work_items (work_id, proposal_id, step, name, fleet, action_kind, parameters, fencing_tokens, attempt, status,
                requested_at, deadline_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            """);
        command.Parameters.Add(new() { Value = item.WorkId });
        command.Parameters.Add(new() { Value = item.ProposalId });
        command.Parameters.Add(new() { Value = StepName(item.Step) });
        command.Parameters.Add(new() { Value = item.Name });
        command.Parameters.Add(new() { Value = item.Fleet });
        command.Parameters.Add(new() { Value = item.ActionKind });
        command.Parameters.Add(ProposalStore.Json(item.Parameters));
        command.Parameters.Add(ProposalStore.Json(item.FencingTokens));
        command.Parameters.Add(new() { Value = item.Attempt });
        command.Parameters.Add(new() { Value = item.Status });
        command.Parameters.Add(new() { Value = item.RequestedAt });
        command.Parameters.Add(new() { Value = item.DeadlineAt });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The work item, locked for this transaction.</summary>
    public static async Task<WorkItem?> LockAsync(UnitOfWork work, Guid workId, CancellationToken ct)
    {
        await using var command = await work.CommandAsync($"select {Columns} from work_items where work_id = $1 for update");
        command.Parameters.Add(new() { Value = workId });
        var items = await ReadAsync(command, ct);
        return items.Count == 0 ? null : items[0];
    }

    /// <summary>Counts one more offer of the same work (its attempt), when fleet is asked for it again.</summary>
    public static async Task CountOfferAsync(UnitOfWork work, Guid workId, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("update work_items set attempt = attempt + 1 where work_id = $1");
        command.Parameters.Add(new() { Value = workId });
        await command.ExecuteNonQueryAsync(ct);
    }

    public static async Task<IReadOnlyList<WorkItem>> ForProposalAsync(NpgsqlCommand command, Guid proposalId, CancellationToken ct)
    {
        command.CommandText = $"select {Columns} from work_items where proposal_id = $1 order by requested_at, work_id";
        command.Parameters.Add(new() { Value = proposalId });
        return await ReadAsync(command, ct);
    }

    public static async Task CompleteAsync(UnitOfWork work, Guid workId, string status, string? outcome, string? runnerId, string? reason,
        DateTimeOffset at, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("""
            update work_items set status = $2, outcome = $3, runner_id = $4, reason = $5, completed_at = $6 where work_id = $1
            """);
        command.Parameters.Add(new() { Value = workId });
        command.Parameters.Add(new() { Value = status });
        command.Parameters.Add(new() { Value = (object?)outcome ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)runnerId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)Bounded(reason) ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = at });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Keeps the digest of the runner's signed result with the work item (the gate's verdict names it).</summary>
    public static async Task SetResultDigestAsync(UnitOfWork work, Guid workId, string digest, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("update work_items set result_digest = $2 where work_id = $1");
        command.Parameters.Add(new() { Value = workId });
        command.Parameters.Add(new() { Value = digest });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Marks still-pending work of the proposal (except rollbacks) as abandoned: its result no longer matters. Returns their ids.</summary>
    public static async Task<IReadOnlyList<Guid>> AbandonPendingAsync(UnitOfWork work, Guid proposalId, DateTimeOffset at, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("""
            update work_items set status = 'abandoned', completed_at = $2
            where proposal_id = $1 and status in ('pending', 'timed-out') and step <> 'rollback'
            returning work_id
            """);
        command.Parameters.Add(new() { Value = proposalId });
        command.Parameters.Add(new() { Value = at });
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    /// <summary>Records a runner's acknowledgement (accepted, or started, which implies accepted); false for unknown work.</summary>
    public static async Task<bool> AcknowledgeAsync(UnitOfWork work, Guid workId, bool started, DateTimeOffset at, CancellationToken ct)
    {
        await using var command = await work.CommandAsync(started
            ? "update work_items set accepted_at = coalesce(accepted_at, $2), started_at = coalesce(started_at, $2) where work_id = $1"
            : "update work_items set accepted_at = coalesce(accepted_at, $2) where work_id = $1");
        command.Parameters.Add(new() { Value = workId });
        command.Parameters.Add(new() { Value = at });
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    public static async Task<bool> IsAcceptedAsync(UnitOfWork work, Guid workId, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("select accepted_at is not null from work_items where work_id = $1");
        command.Parameters.Add(new() { Value = workId });
        return await command.ExecuteScalarAsync(ct) is true;
    }

    /// <summary>Whether a runner signed that an execution of the proposal started (or reported a result of one, which implies it).</summary>
    public static async Task<bool> ExecutionStartedAsync(UnitOfWork work, Guid proposalId, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("select exists (select 1 from work_items where proposal_id = $1 and step = 'execute' and started_at is not null)");
        command.Parameters.Add(new() { Value = proposalId });
        return await command.ExecuteScalarAsync(ct) is true;
    }

    public static async Task<bool> HasPendingRollbackAsync(UnitOfWork work, Guid proposalId, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("select exists (select 1 from work_items where proposal_id = $1 and step = 'rollback' and status = 'pending')");
        command.Parameters.Add(new() { Value = proposalId });
        return await command.ExecuteScalarAsync(ct) is true;
    }

    /// <summary>Records the leases the proposal holds and raises the durable fencing floors to their tokens, in one transaction.</summary>
    public static async Task UpsertLeasesAsync(UnitOfWork work, Guid proposalId, string environment, IReadOnlyDictionary<string, long> tokens,
        DateTimeOffset at, CancellationToken ct)
    {
        await Scheduling.FencingFloors.RaiseAsync(work, tokens, ct);
        foreach (var (target, token) in tokens)
        {
            await using var command = await work.CommandAsync("""
                insert into leases (proposal_id, target, environment, fencing_token, acquired_at) values ($1, $2, $3, $4, $5)
                on conflict (proposal_id, target) do update set fencing_token = excluded.fencing_token, acquired_at = excluded.acquired_at,
                    released_at = null
                """);
            command.Parameters.Add(new() { Value = proposalId });
            command.Parameters.Add(new() { Value = target });
            command.Parameters.Add(new() { Value = environment });
            command.Parameters.Add(new() { Value = token });
            command.Parameters.Add(new() { Value = at });
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    public static async Task<IReadOnlyDictionary<string, long>> HeldTokensAsync(UnitOfWork work, Guid proposalId, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("select target, fencing_token from leases where proposal_id = $1 and released_at is null");
        command.Parameters.Add(new() { Value = proposalId });
        var tokens = new SortedDictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            tokens[reader.GetString(0)] = reader.GetInt64(1);
        }

        return tokens;
    }

    /// <summary>Marks the proposal's leases released; returns the targets that were held.</summary>
    public static async Task<IReadOnlyList<string>> MarkReleasedAsync(UnitOfWork work, Guid proposalId, DateTimeOffset at, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("update leases set released_at = $2 where proposal_id = $1 and released_at is null returning target");
        command.Parameters.Add(new() { Value = proposalId });
        command.Parameters.Add(new() { Value = at });
        var targets = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            targets.Add(reader.GetString(0));
        }

        return targets;
    }

    public static async Task<IReadOnlyList<LeaseRow>> LeasesAsync(NpgsqlCommand command, Guid proposalId, CancellationToken ct)
    {
        command.CommandText = "select target, environment, fencing_token, acquired_at, released_at from leases where proposal_id = $1 order by target";
        command.Parameters.Add(new() { Value = proposalId });
        var rows = new List<LeaseRow>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new LeaseRow(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4)));
        }

        return rows;
    }

    private static async Task<IReadOnlyList<WorkItem>> ReadAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var items = new List<WorkItem>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            items.Add(new WorkItem(
                reader.GetGuid(0), reader.GetGuid(1), ParseStep(reader.GetString(2)), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                ProposalStore.FromJson<Dictionary<string, string>>(reader.GetString(6)),
                ProposalStore.FromJson<Dictionary<string, long>>(reader.GetString(7)),
                reader.GetInt32(8), reader.GetString(9), Text(reader, 10), Text(reader, 11), Text(reader, 12),
                reader.GetFieldValue<DateTimeOffset>(13), reader.GetFieldValue<DateTimeOffset>(14),
                reader.IsDBNull(15) ? null : reader.GetFieldValue<DateTimeOffset>(15))
            {
                ResultDigest = Text(reader, 16),
            });
        }

        return items;
    }

    private static WorkStep ParseStep(string name) => Enum.GetValues<WorkStep>().First(s => StepName(s) == name);

    private static string? Text(NpgsqlDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    private static string? Bounded(string? value) => value is { Length: > 2000 } ? value[..2000] : value;
}
