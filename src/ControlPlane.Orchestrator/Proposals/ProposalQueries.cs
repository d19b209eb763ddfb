using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Approvals;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Lifecycle;
using ControlPlane.Orchestrator.Scheduling;
using ControlPlane.ServiceDefaults.Security;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Orchestrator.Proposals;

/// <summary>GET /proposals/{id}: everything the plane knows about one governed action.</summary>
public sealed record ProposalView(
    Guid Id,
    ProposalState State,
    long Version,
    string AgentId,
    string? SponsorId,
    string? AgentFleet,
    string IdempotencyKey,
    ProposedAction Action,
    IReadOnlyList<string> Targets,
    string Environment,
    ChangeReference Change,
    string ContentHash,
    ImpactReport? Impact,
    PolicyDecision? Decision,
    ApprovalStatus? ApprovalStatus,
    IReadOnlyList<ApprovalRecorded> Approvals,
    IReadOnlyList<HistoryEntry> History,
    IReadOnlyList<WorkItem> Work,
    IReadOnlyList<LeaseRow> Leases,
    string? WaitingReason,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? AuthorizedAt,
    DateTimeOffset UpdatedAt,
    string? PlanHash = null,
    Reachability? Reachability = null,
    IReadOnlyList<CheckGateView>? Gates = null);

/// <summary>
/// The gate over one step's checks (validate before execution, verify after): not-started, holding, open or closed, with
/// each step's verdict so far.
/// </summary>
public sealed record CheckGateView(WorkStep Step, string State, IReadOnlyList<SuiteVerdict> Suites);

/// <summary>How far approval has come: N required of which roles, how many so far, until when.</summary>
public sealed record ApprovalStatus(int Required, IReadOnlyList<string> Roles, int Approved, DateTimeOffset? ExpiresAt);

public sealed record HistoryEntry(ProposalState From, ProposalState To, string Trigger, string Actor, string Reason, long Version, DateTimeOffset At);

/// <summary>One row of GET /proposals. Reachability: the rank of its impact's reachable risk; ReachableNodes: that subset.</summary>
public sealed record ProposalSummary(
    Guid Id, ProposalState State, string AgentId, string ActionKind, string Summary, IReadOnlyList<string> Targets, string Environment,
    DateTimeOffset SubmittedAt, DateTimeOffset UpdatedAt, string Reachability, IReadOnlyList<string> ReachableNodes);

/// <summary>Reads for the API, with the object-level rule applied (an invisible proposal does not exist).</summary>
public sealed class ProposalQueries(NpgsqlDataSource dataSource, SchedulerStatus scheduler)
{
    public const int MaxLimit = 200;

    /// <summary>How many waiting proposals the inbox ranks at most.</summary>
    public const int InboxReadLimit = 2000;

    public async Task<ProposalView?> GetAsync(Caller caller, Guid id, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        ProposalRecord? proposal;
        await using (var command = new NpgsqlCommand($"select {ProposalStore.Columns} from proposals where id = $1", connection))
        {
            command.Parameters.Add(new() { Value = id });
            proposal = await ProposalStore.ReadOneAsync(command, ct);
        }

        if (proposal is null || !ProposalAccess.CanRead(caller, proposal))
        {
            return null;
        }

        IReadOnlyList<ApprovalRecorded> approvals;
        await using (var command = new NpgsqlCommand(null, connection))
        {
            approvals = await ProposalStore.ListApprovalsAsync(command, id, ct);
        }

        DateTimeOffset? expiresAt;
        await using (var command = new NpgsqlCommand(null, connection))
        {
            expiresAt = await ProposalStore.TimerDueAsync(command, id, TimerKinds.ApprovalExpiry, ct);
        }

        var history = new List<HistoryEntry>();
        await using (var command = new NpgsqlCommand(
            "select from_state, to_state, trigger, actor, reason, version, at from proposal_history where proposal_id = $1 order by id", connection))
        {
            command.Parameters.Add(new() { Value = id });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                history.Add(new HistoryEntry(StateNames.Parse(reader.GetString(0)), StateNames.Parse(reader.GetString(1)), reader.GetString(2),
                    reader.GetString(3), reader.GetString(4), reader.GetInt64(5), reader.GetFieldValue<DateTimeOffset>(6)));
            }
        }

        IReadOnlyList<WorkItem> work;
        await using (var command = new NpgsqlCommand(null, connection))
        {
            work = await WorkStore.ForProposalAsync(command, id, ct);
        }

        IReadOnlyList<LeaseRow> leases;
        await using (var command = new NpgsqlCommand(null, connection))
        {
            leases = await WorkStore.LeasesAsync(command, id, ct);
        }

        var status = proposal.Decision?.Outcome == DecisionOutcome.RequireApproval
            ? new ApprovalStatus(ApprovalRules.RequiredCount(proposal.Decision), ApprovalRules.RequiredRoles(proposal.Decision),
                approvals.Count(a => a.Decision == ApprovalDecision.Approve), expiresAt)
            : null;
        return new ProposalView(proposal.Id, proposal.State, proposal.Version, proposal.AgentId, proposal.SponsorId, proposal.AgentFleet,
            proposal.IdempotencyKey, proposal.Action, proposal.Targets, proposal.Environment, proposal.Change, proposal.ContentHash,
            proposal.Impact, proposal.Decision, status, approvals, history, work, leases,
            proposal.State == ProposalState.Scheduled ? scheduler.WaitingReason(id) : null, proposal.SubmittedAt, proposal.AuthorizedAt, proposal.UpdatedAt,
            CheckGate.PlanHash(proposal.Decision), ReachableRisk.Of(proposal.Impact), Gates(proposal, work));
    }

    /// <summary>The validation and verification gates the decision asks for, judged from the work so far.</summary>
    public static IReadOnlyList<CheckGateView> Gates(ProposalRecord proposal, IReadOnlyList<WorkItem> work)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        var gates = new List<CheckGateView>(2);
        foreach (var step in (WorkStep[])[WorkStep.Validate, WorkStep.Verify])
        {
            var steps = LifecycleEffects.Steps(proposal, step);
            if (steps is not { Count: > 0 })
            {
                continue;
            }

            var evaluation = CheckGate.Evaluate(steps, step, work);
            var state = !work.Any(w => w.Step == step) ? "not-started" : Trigger.Kebab(evaluation.State.ToString());
            gates.Add(new CheckGateView(step, state, evaluation.Suites));
        }

        return gates;
    }

    /// <summary>
    /// Newest first; waiting approvals (state awaiting-approval) by reachable risk first (<see cref="ReachableRisk"/>), then
    /// newest first, so the inbox spends attention on what outside traffic can reach. SQL narrows to what the caller could possibly see (own, environments of its bindings, or
    /// everything for a global reader); the exact object rule then runs per row (node and team scopes).
    /// </summary>
    public async Task<IReadOnlyList<ProposalSummary>> ListAsync(Caller caller, ProposalState? state, string? environment, int limit, CancellationToken ct)
    {
        var everything = ProposalAccess.ReadsEverything(caller);
        var readable = caller.Bindings.Where(b => b.Role != Roles.Proposer && Permissions.Grants(b.Role, Permissions.ProposalsRead)).ToList();
        var environments = readable.Where(b => b.Scope == ScopeKind.Environment).Select(b => b.ScopeValue!).ToArray();
        var perRow = readable.Any(b => b.Scope is ScopeKind.Node or ScopeKind.Team);

        await using var command = dataSource.CreateCommand($"""
            select {ProposalStore.Columns} from proposals
            where ($1::text is null or state = $1) and ($2::text is null or environment = $2)
              and ($3 or $4 or agent_id = $5 or environment = any($6))
            order by submitted_at desc, id desc
            limit $7
            """);
        command.Parameters.Add(new() { Value = state is { } s ? StateNames.Of(s) : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)environment ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = everything });
        command.Parameters.Add(new() { Value = perRow });
        command.Parameters.Add(new() { Value = caller.Id });
        command.Parameters.Add(new() { Value = environments });
        // Per-row filtering may drop rows: read a bounded surplus so a page is still full. The inbox is ranked after
        // reading, so it reads every waiting proposal (bounded) before it cuts the page.
        var inbox = state == ProposalState.AwaitingApproval;
        command.Parameters.Add(new() { Value = inbox ? InboxReadLimit : perRow && !everything ? Math.Min(limit * 10, 2000) : limit });

        var list = new List<ProposalSummary>(limit);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while ((inbox || list.Count < limit) && await reader.ReadAsync(ct))
        {
            var p = ProposalStore.Read(reader);
            if (everything || ProposalAccess.CanRead(caller, p))
            {
                var reachability = ReachableRisk.Of(p.Impact);
                list.Add(new ProposalSummary(p.Id, p.State, p.AgentId, p.Action.Kind, p.Action.Summary, p.Targets, p.Environment, p.SubmittedAt, p.UpdatedAt,
                    reachability.Rank, [.. reachability.Nodes.Select(n => n.NodeId)]));
            }
        }

        // OrderBy is stable: within a rank the SQL order (newest first) stays.
        return inbox ? [.. list.OrderBy(s => ReachableRisk.Order(s.Reachability)).Take(limit)] : list;
    }
}
