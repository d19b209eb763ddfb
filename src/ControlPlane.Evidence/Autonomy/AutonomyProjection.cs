using ControlPlane.Contracts;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Evidence.Autonomy;

/// <summary>
/// Keeps autonomy_proposals and autonomy_approvals from the events evidence records, inside the append's
/// transaction (the inbox makes it exactly once). Upserts tolerate any arrival order; the state follows the
/// highest lifecycle version seen. Statements, not executions: the evidence log sends them with the records of its
/// batch in one round trip.
/// </summary>
public static class AutonomyProjection
{
    public static IEnumerable<NpgsqlBatchCommand> Commands(object message) => message switch
    {
        ProposalSubmitted e => [Command("""
            insert into autonomy_proposals (proposal_id, agent, environment, action_kind, submitted_at, state_at)
            values ($1, $2, $3, $4, $5, $5)
            on conflict (proposal_id) do update set agent = excluded.agent, environment = excluded.environment,
                action_kind = excluded.action_kind, submitted_at = excluded.submitted_at,
                state_at = coalesce(autonomy_proposals.state_at, excluded.state_at)
            """, e.ProposalId, e.AgentId, e.Environment, e.Action.Kind, e.SubmittedAt)],
        ProposalStateChanged e => [Command("""
            insert into autonomy_proposals (proposal_id, state, state_version, state_at, awaiting_since, approval_required, executed, completed_at)
            values ($1, $2, $3, $4, case when $2 = 'awaiting-approval' then $4 end, $2 = 'awaiting-approval', $2 = 'executing',
                    case when $2 = 'completed' then $4 end)
            on conflict (proposal_id) do update set
                state = case when excluded.state_version > autonomy_proposals.state_version then excluded.state else autonomy_proposals.state end,
                state_at = case when excluded.state_version > autonomy_proposals.state_version then excluded.state_at else autonomy_proposals.state_at end,
                state_version = greatest(excluded.state_version, autonomy_proposals.state_version),
                awaiting_since = coalesce(autonomy_proposals.awaiting_since, excluded.awaiting_since),
                approval_required = autonomy_proposals.approval_required or excluded.approval_required,
                executed = autonomy_proposals.executed or excluded.executed,
                completed_at = coalesce(autonomy_proposals.completed_at, excluded.completed_at)
            """, e.ProposalId, StateName(e.To), e.Version, e.At)],
        ApprovalRecorded e =>
        [
            Command("""
                insert into autonomy_approvals (proposal_id, approver, decision, decided_at) values ($1, $2, $3, $4)
                on conflict do nothing
                """, e.ProposalId, e.ApproverId, e.Decision == ApprovalDecision.Approve ? "approve" : "reject", e.At),
            Flag(e.ProposalId, "human_decided"),
        ],
        // The latest assessment says whether outside traffic reaches the change; without reachability facts: unknown (null).
        ImpactAssessed e => [Command("""
            insert into autonomy_proposals (proposal_id, impact_reachable) values ($1, $2)
            on conflict (proposal_id) do update set impact_reachable = excluded.impact_reachable
            """, e.ProposalId, ImpactReachable(e.Impact) is { } reachable ? reachable : DBNull.Value)],
        WorkCompleted { Step: WorkStep.Verify, Outcome: not WorkOutcome.Succeeded } e => [Flag(e.ProposalId, "verification_failed")],
        WorkRequested { Step: WorkStep.Rollback } e => [Flag(e.ProposalId, "rolled_back")],
        _ => [],
    };

    /// <summary>Whether some affected node (target or dependent) is reachable from outside; null when the impact does not say.</summary>
    public static bool? ImpactReachable(ImpactReport impact)
    {
        ArgumentNullException.ThrowIfNull(impact);
        return impact.TargetNodes is null ? null : impact.TargetNodes.Concat(impact.Dependents).Any(n => n.Reachable);
    }

    /// <summary>The wire (kebab-case) name of a state, as the API and the table spell it.</summary>
    public static string StateName(ProposalState state) => state switch
    {
        ProposalState.AwaitingApproval => "awaiting-approval",
        _ => state.ToString().ToLowerInvariant(),
    };

    private static NpgsqlBatchCommand Flag(Guid proposalId, string column) =>
        Command($"insert into autonomy_proposals (proposal_id, {column}) values ($1, true) on conflict (proposal_id) do update set {column} = true", proposalId);

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(value switch
            {
                string text => new NpgsqlParameter { Value = text, NpgsqlDbType = NpgsqlDbType.Text },
                DateTimeOffset at => new NpgsqlParameter { Value = at.ToUniversalTime() },
                DBNull => new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Boolean }, // only the unknown reachability is null
                _ => new NpgsqlParameter { Value = value },
            });
        }

        return command;
    }
}
