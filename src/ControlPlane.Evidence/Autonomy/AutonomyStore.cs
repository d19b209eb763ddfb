using ControlPlane.Contracts.Evidence;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Evidence.Autonomy;

/// <summary>Which proposals a figure covers: submitted in [From, To), optionally one environment, agent and action kind.</summary>
public sealed record AutonomyFilter(DateTimeOffset From, DateTimeOffset To, string? Environment = null, string? Agent = null, string? ActionKind = null);

/// <summary>Reads the autonomy projection and hands the rows to <see cref="AutonomyCalculator"/>.</summary>
public sealed class AutonomyStore(NpgsqlDataSource dataSource)
{
    private const string ProposalColumns = """
        p.proposal_id, p.agent, p.environment, p.action_kind, p.submitted_at, p.state, p.state_at, p.awaiting_since,
        p.approval_required, p.human_decided, p.executed, p.completed_at, p.verification_failed, p.rolled_back, p.impact_reachable
        """;

    private const string Dimensions = """
        p.submitted_at is not null and ($3::text is null or p.environment = $3) and ($4::text is null or p.agent = $4)
        and ($5::text is null or p.action_kind = $5)
        """;

    public async Task<AutonomyMetrics> ComputeAsync(AutonomyFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var inWindow = $"p.submitted_at >= $1 and p.submitted_at < $2 and {Dimensions}";
        var proposals = await ReadProposalsAsync(connection, tx, $"select {ProposalColumns} from autonomy_proposals p where {inWindow}", filter, cancellationToken);
        var waiting = await ReadProposalsAsync(connection, tx,
            $"select {ProposalColumns} from autonomy_proposals p where p.state = 'awaiting-approval' and $1::timestamptz is not null and $2::timestamptz is not null and {Dimensions}",
            filter, cancellationToken);
        var approvals = new List<ApprovalFacts>();
        await using (var command = Command(connection, tx, $"""
            select a.proposal_id, a.approver, a.decision, a.decided_at from autonomy_approvals a
            join autonomy_proposals p on p.proposal_id = a.proposal_id where {inWindow}
            """, filter))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                approvals.Add(new ApprovalFacts(reader.GetGuid(0), reader.GetString(1), reader.GetString(2) == "approve", reader.GetFieldValue<DateTimeOffset>(3)));
            }
        }

        await tx.CommitAsync(cancellationToken);
        return AutonomyCalculator.Compute(filter.From, filter.To, proposals, approvals, waiting);
    }

    private static async Task<List<ProposalFacts>> ReadProposalsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, AutonomyFilter filter, CancellationToken cancellationToken)
    {
        var rows = new List<ProposalFacts>();
        await using var command = Command(connection, tx, sql, filter);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new ProposalFacts(
                reader.GetGuid(0),
                reader.IsDBNull(1) ? "(unknown)" : reader.GetString(1),
                reader.IsDBNull(2) ? "(unknown)" : reader.GetString(2),
                reader.IsDBNull(3) ? "(unknown)" : reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4),
                reader.GetString(5),
                Time(reader, 6),
                Time(reader, 7),
                reader.GetBoolean(8),
                reader.GetBoolean(9),
                reader.GetBoolean(10),
                Time(reader, 11),
                reader.GetBoolean(12),
                reader.GetBoolean(13),
                reader.IsDBNull(14) ? null : reader.GetBoolean(14)));
        }

        return rows;
    }

    private static DateTimeOffset? Time(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);

    private static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, AutonomyFilter filter)
    {
        var command = new NpgsqlCommand(sql, connection, tx);
        command.Parameters.Add(new() { Value = filter.From.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = filter.To.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = (object?)filter.Environment ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)filter.Agent ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)filter.ActionKind ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        return command;
    }
}
