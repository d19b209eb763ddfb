using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Lifecycle;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.ServiceDefaults.Data;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Orchestrator.Data;

/// <summary>SQL for proposals, their history, approvals and timers. Writes run inside a <see cref="UnitOfWork"/>.</summary>
public static class ProposalStore
{
    public const string Columns = """
        id, agent_id, sponsor_id, agent_fleet, idempotency_key, content_hash, action::text, targets, environment, change::text,
        state, version, impact::text, decision::text, graph_version, submitted_at, authorized_at, updated_at, trace_parent
        """;

    public static ProposalRecord Read(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetString(1), NullableString(r, 2), NullableString(r, 3), r.GetString(4), r.GetString(5),
        FromJson<ProposedAction>(r.GetString(6)), r.GetFieldValue<string[]>(7), r.GetString(8), FromJson<ChangeReference>(r.GetString(9)),
        StateNames.Parse(r.GetString(10)), r.GetInt64(11),
        r.IsDBNull(12) ? null : FromJson<ImpactReport>(r.GetString(12)),
        r.IsDBNull(13) ? null : FromJson<PolicyDecision>(r.GetString(13)),
        r.IsDBNull(14) ? null : r.GetInt64(14),
        r.GetFieldValue<DateTimeOffset>(15), r.IsDBNull(16) ? null : r.GetFieldValue<DateTimeOffset>(16), r.GetFieldValue<DateTimeOffset>(17))
    {
        TraceParent = NullableString(r, 18),
    };

    /// <summary>Inserts a new proposal; false when the agent already used the idempotency key.</summary>
    public static async Task<bool> TryInsertAsync(UnitOfWork work, ProposalRecord p, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("""
            insert into proposals (id, agent_id, sponsor_id, agent_fleet, idempotency_key, content_hash, action, targets, environment,
                change, state, version, submitted_at, updated_at, trace_parent)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)
            on conflict (agent_id, idempotency_key) do nothing
            """);
        command.Parameters.Add(new() { Value = p.Id });
        command.Parameters.Add(new() { Value = p.AgentId });
        command.Parameters.Add(new() { Value = (object?)p.SponsorId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)p.AgentFleet ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = p.IdempotencyKey });
        command.Parameters.Add(new() { Value = p.ContentHash });
        command.Parameters.Add(Json(p.Action));
        command.Parameters.Add(new() { Value = p.Targets.ToArray() });
        command.Parameters.Add(new() { Value = p.Environment });
        command.Parameters.Add(Json(p.Change));
        command.Parameters.Add(new() { Value = StateNames.Of(p.State) });
        command.Parameters.Add(new() { Value = p.Version });
        command.Parameters.Add(new() { Value = p.SubmittedAt });
        command.Parameters.Add(new() { Value = (object?)p.TraceParent ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    public static async Task<ProposalRecord?> FindByKeyAsync(UnitOfWork work, string agentId, string idempotencyKey, CancellationToken ct)
    {
        await using var command = await work.CommandAsync($"select {Columns} from proposals where agent_id = $1 and idempotency_key = $2");
        command.Parameters.Add(new() { Value = agentId });
        command.Parameters.Add(new() { Value = idempotencyKey });
        return await ReadOneAsync(command, ct);
    }

    public static async Task<ProposalRecord?> LoadAsync(UnitOfWork work, Guid id, CancellationToken ct)
    {
        await using var command = await work.CommandAsync($"select {Columns} from proposals where id = $1");
        command.Parameters.Add(new() { Value = id });
        return await ReadOneAsync(command, ct);
    }

    /// <summary>
    /// Loads the proposal and locks its row until the transaction ends, so writers of one proposal take turns. "No key
    /// update" is the lock an update of the row takes: it waits for other writers but not for transactions that only
    /// insert the proposal's history, timers or webhooks (they hold a key-share lock for the foreign key).
    /// </summary>
    public static async Task<ProposalRecord?> LockAsync(UnitOfWork work, Guid id, CancellationToken ct)
    {
        await using var command = await work.CommandAsync(LockSql);
        command.Parameters.Add(new() { Value = id });
        return await ReadOneAsync(command, ct);
    }

    /// <summary>The read of <see cref="LockAsync"/>, to send with others (<see cref="UnitOfWork.AcceptOnceAndReadAsync"/>).</summary>
    public static NpgsqlBatchCommand LockQuery(Guid id) => new(LockSql) { Parameters = { new() { Value = id } } };

    private const string LockSql = $"select {Columns} from proposals where id = $1 for no key update";

    /// <summary>
    /// Moves the proposal to <paramref name="state"/> if nobody changed it since <paramref name="expectedVersion"/>; held
    /// back with the unit's other writes, and when it changes no row the unit of work fails with
    /// <see cref="ConcurrencyConflictException"/> at its next statement or commit (and is retried on fresh state).
    /// </summary>
    public static void UpdateState(UnitOfWork work, Guid id, long expectedVersion, ProposalState state, DateTimeOffset at, bool authorized)
    {
        var command = work.DeferChangingOneRow("""
            update proposals set state = $3, version = version + 1, updated_at = $4,
                authorized_at = case when $5 then $4 else authorized_at end
            where id = $1 and version = $2
            """, () => new ConcurrencyConflictException(id));
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = expectedVersion });
        command.Parameters.Add(new() { Value = StateNames.Of(state) });
        command.Parameters.Add(new() { Value = at });
        command.Parameters.Add(new() { Value = authorized });
    }

    /// <summary>Held back with the unit's other writes (<see cref="UnitOfWork.Defer"/>), as are the writes below that return nothing.</summary>
    public static void SetImpact(UnitOfWork work, Guid id, ImpactReport impact)
    {
        var command = work.Defer("update proposals set impact = $2, graph_version = $3 where id = $1");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(Json(impact));
        command.Parameters.Add(new() { Value = impact.GraphVersion });
    }

    public static void SetDecision(UnitOfWork work, Guid id, PolicyDecision decision, long graphVersion)
    {
        // The graph version the decision was made on; an impact that arrives later keeps its own.
        var command = work.Defer("update proposals set decision = $2, graph_version = coalesce(graph_version, $3) where id = $1");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(Json(decision));
        command.Parameters.Add(new() { Value = graphVersion });
    }

    public static void AppendHistory(UnitOfWork work, Guid id, ProposalState from, ProposalState to, string trigger, string actor,
        string reason, long version, DateTimeOffset at)
    {
        var command = work.Defer("""
            insert into proposal_history (proposal_id, from_state, to_state, trigger, actor, reason, version, at)
            values ($1, $2, $3, $4, $5, $6, $7, $8)
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = StateNames.Of(from) });
        command.Parameters.Add(new() { Value = StateNames.Of(to) });
        command.Parameters.Add(new() { Value = trigger });
        command.Parameters.Add(new() { Value = actor });
        command.Parameters.Add(new() { Value = reason });
        command.Parameters.Add(new() { Value = version });
        command.Parameters.Add(new() { Value = at });
        // Same transaction: the agent's webhook hears of every committed change, and of none that rolled back.
        AgentNotifications.AgentWebhookStore.Enqueue(work, id, from, to, reason, version, at);
    }

    /// <summary>Records a human's decision; false when that human already decided on this proposal.</summary>
    public static async Task<bool> TryInsertApprovalAsync(UnitOfWork work, Guid proposalId, ApprovalRecorded approval, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("""
            insert into approvals (proposal_id, approver_id, approver_name, decision, comment, proposal_hash, graph_version, policy_hash, at, plan_hash)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            on conflict (proposal_id, approver_id) do nothing
            """);
        command.Parameters.Add(new() { Value = proposalId });
        command.Parameters.Add(new() { Value = approval.ApproverId });
        command.Parameters.Add(new() { Value = approval.ApproverName });
        command.Parameters.Add(new() { Value = approval.Decision == ApprovalDecision.Approve ? "approve" : "reject" });
        command.Parameters.Add(new() { Value = (object?)approval.Comment ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = approval.ProposalHash });
        command.Parameters.Add(new() { Value = approval.GraphVersion });
        command.Parameters.Add(new() { Value = approval.PolicyHash });
        command.Parameters.Add(new() { Value = approval.At });
        command.Parameters.Add(new() { Value = (object?)approval.PlanHash ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    public static async Task<IReadOnlyList<ApprovalRecorded>> ListApprovalsAsync(NpgsqlCommand command, Guid proposalId, CancellationToken ct)
    {
        command.CommandText = """
            select approver_id, approver_name, decision, comment, proposal_hash, graph_version, policy_hash, at, plan_hash
            from approvals where proposal_id = $1 order by at, approver_id
            """;
        command.Parameters.Add(new() { Value = proposalId });
        var list = new List<ApprovalRecorded>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(new ApprovalRecorded(proposalId, reader.GetString(0), reader.GetString(1),
                reader.GetString(2) == "approve" ? ApprovalDecision.Approve : ApprovalDecision.Reject,
                NullableString(reader, 3), reader.GetString(4), reader.GetInt64(5), reader.GetString(6), reader.GetFieldValue<DateTimeOffset>(7),
                NullableString(reader, 8)));
        }

        return list;
    }

    public static void AddTimer(UnitOfWork work, Guid proposalId, string kind, DateTimeOffset dueAt, Guid? workId)
    {
        var command = work.Defer("insert into timers (proposal_id, kind, due_at, work_id) values ($1, $2, $3, $4)");
        command.Parameters.Add(new() { Value = proposalId });
        command.Parameters.Add(new() { Value = kind });
        command.Parameters.Add(new() { Value = dueAt });
        command.Parameters.Add(new() { Value = (object?)workId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
    }

    /// <summary>Cancels the proposal's timers of one kind (or all when <paramref name="kind"/> is null).</summary>
    public static async Task DeleteTimersAsync(UnitOfWork work, Guid proposalId, string? kind, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("delete from timers where proposal_id = $1 and ($2::text is null or kind = $2)");
        command.Parameters.Add(new() { Value = proposalId });
        command.Parameters.Add(new() { Value = (object?)kind ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync(ct);
    }

    public static async Task DeleteWorkTimerAsync(UnitOfWork work, Guid workId, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("delete from timers where work_id = $1");
        command.Parameters.Add(new() { Value = workId });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A runner accepted the work: its accept timer is moot (the deadline timer stays).</summary>
    public static async Task DeleteAcceptTimerAsync(UnitOfWork work, Guid workId, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("delete from timers where work_id = $1 and kind = 'work-accept'");
        command.Parameters.Add(new() { Value = workId });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Cancels the proposal's timers except those of rollback work, which outlives the proposal's end.</summary>
    public static async Task DeleteTimersExceptRollbackAsync(UnitOfWork work, Guid proposalId, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("""
            delete from timers t where t.proposal_id = $1
              and not exists (select 1 from work_items w where w.work_id = t.work_id and w.step = 'rollback')
            """);
        command.Parameters.Add(new() { Value = proposalId });
        await command.ExecuteNonQueryAsync(ct);
    }

    public static async Task<DateTimeOffset?> TimerDueAsync(NpgsqlCommand command, Guid proposalId, string kind, CancellationToken ct)
    {
        command.CommandText = "select min(due_at) from timers where proposal_id = $1 and kind = $2";
        command.Parameters.Add(new() { Value = proposalId });
        command.Parameters.Add(new() { Value = kind });
        return await command.ExecuteScalarAsync(ct) is DateTime due ? new DateTimeOffset(due, TimeSpan.Zero) : null;
    }

    public static async Task<ProposalRecord?> ReadOneAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    public static NpgsqlParameter Json<T>(T value) =>
        new() { Value = JsonSerializer.Serialize(value, ContractJson.Options), NpgsqlDbType = NpgsqlDbType.Jsonb };

    public static T FromJson<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, ContractJson.Options) ?? throw new InvalidOperationException($"Stored {typeof(T).Name} is empty.");

    private static string? NullableString(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
}

/// <summary>States as stored and on the wire: kebab-case ("awaiting-approval").</summary>
public static class StateNames
{
    private static readonly Dictionary<string, ProposalState> ByName =
        Enum.GetValues<ProposalState>().ToDictionary(Of, s => s, StringComparer.Ordinal);

    public static string Of(ProposalState state) => Lifecycle.ProposalStateMachine.Name(state);

    public static ProposalState Parse(string name) => ByName.TryGetValue(name, out var state)
        ? state
        : throw new InvalidOperationException($"Unknown stored proposal state '{name}'.");

    public static bool TryParse(string? name, out ProposalState state)
    {
        state = default;
        return name is not null && ByName.TryGetValue(name, out state);
    }
}
