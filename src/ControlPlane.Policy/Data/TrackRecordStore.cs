using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using Npgsql;

namespace ControlPlane.Policy.Data;

/// <summary>One agent's outcomes for one action kind in one environment.</summary>
public sealed record TrackRecordOutcomes(string ActionKind, string Environment, IReadOnlyList<TrackOutcome> Outcomes);

/// <summary>
/// The track_record projection: which proposal was whose (agent, action kind, environment), how it ended (verified or
/// failed) and whether it was rolled back. Upserts tolerate any arrival order and redelivery: each column is set by
/// one event kind and keeps its first value.
/// </summary>
public sealed class TrackRecordStore(NpgsqlDataSource dataSource)
{
    public async Task RecordAsync(ProposalSubmitted proposal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        await using var command = dataSource.CreateCommand("""
            insert into track_record (proposal_id, agent_id, action_kind, environment) values ($1, $2, $3, $4)
            on conflict (proposal_id) do update set agent_id = coalesce(track_record.agent_id, excluded.agent_id),
                action_kind = coalesce(track_record.action_kind, excluded.action_kind), environment = coalesce(track_record.environment, excluded.environment)
            """);
        Add(command, proposal.ProposalId, proposal.AgentId, proposal.Action.Kind, proposal.Environment);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Records a proposal's end: completed (a verified success when a verification ran), failed a failure; other states are not outcomes.</summary>
    public async Task RecordAsync(ProposalStateChanged change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var outcome = change.To switch
        {
            ProposalState.Completed => "verified",
            ProposalState.Failed => "failed",
            _ => null,
        };
        if (outcome is null)
        {
            return;
        }

        await using var command = dataSource.CreateCommand("""
            insert into track_record (proposal_id, outcome, outcome_at) values ($1, $2, $3)
            on conflict (proposal_id) do update set outcome = coalesce(track_record.outcome, excluded.outcome),
                outcome_at = coalesce(track_record.outcome_at, excluded.outcome_at)
            """);
        Add(command, change.ProposalId, outcome, change.At);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Records that orchestrator asked to undo the proposal's change (its earliest request is when it was rolled back).</summary>
    public async Task RecordRollbackAsync(Guid proposalId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            insert into track_record (proposal_id, rolled_back_at) values ($1, $2)
            on conflict (proposal_id) do update set rolled_back_at = least(track_record.rolled_back_at, excluded.rolled_back_at)
            """);
        Add(command, proposalId, at);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Records that a verification ran for the proposal: only then is its completion a verified success.</summary>
    public async Task RecordVerificationAsync(Guid proposalId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            insert into track_record (proposal_id, verification_requested) values ($1, true)
            on conflict (proposal_id) do update set verification_requested = true
            """);
        Add(command, proposalId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The agent's outcomes per action kind and environment that may still count in a window of <paramref name="longest"/> ending now.</summary>
    public async Task<IReadOnlyList<TrackRecordOutcomes>> ListAsync(string agentId, string? actionKind, string? environment, TimeSpan longest,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(agentId);
        await using var command = dataSource.CreateCommand("""
            select action_kind, environment, outcome, outcome_at, rolled_back_at, verification_requested from track_record
            where agent_id = $1 and ($2::text is null or action_kind = $2) and ($3::text is null or environment = $3)
              and action_kind is not null and environment is not null and (outcome_at > $4 or rolled_back_at > $4)
            order by action_kind, environment
            """);
        Add(command, agentId, (object?)actionKind ?? DBNull.Value, (object?)environment ?? DBNull.Value, now - longest);
        command.Parameters[1].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text;
        command.Parameters[2].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text;
        var rows = new List<(string Kind, string Environment, TrackOutcome Outcome)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                // A completion no verification checked is neither a verified success nor a failure.
                bool? verified = reader.IsDBNull(2) ? null : reader.GetString(2) == "verified" ? (reader.GetBoolean(5) ? true : null) : false;
                rows.Add((reader.GetString(0), reader.GetString(1), new TrackOutcome(verified,
                    reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3), reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4))));
            }
        }

        return [.. rows.GroupBy(r => (r.Kind, r.Environment)).Select(g => new TrackRecordOutcomes(g.Key.Kind, g.Key.Environment, [.. g.Select(r => r.Outcome)]))];
    }

    /// <summary>The facts a decision counts: the agent's record for the action kind and environment in every window the rules use.</summary>
    public async Task<TrackRecordFacts> FactsAsync(string? agentId, string actionKind, string environment, IReadOnlyList<TimeSpan> windows,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(windows);
        if (agentId is null || windows.Count == 0)
        {
            return TrackRecordFacts.None;
        }

        var outcomes = await ListAsync(agentId, actionKind, environment, windows.Max(), now, cancellationToken);
        return TrackRecordFacts.From(outcomes.SelectMany(o => o.Outcomes), windows, now);
    }

    private static void Add(NpgsqlCommand command, params object[] values)
    {
        foreach (var value in values)
        {
            command.Parameters.Add(new() { Value = value });
        }
    }
}
