using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using ControlPlane.Contracts.Evidence;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Telemetry;
using Npgsql;

namespace ControlPlane.Evidence.Recording;

/// <summary>
/// Appends to the evidence chain. Appends are serialized by a transaction-scoped advisory lock: a writer takes
/// the lock, reads the global head and its proposal's head, inserts, and commits (which releases the lock),
/// so two writers never extend the same head and the chain never forks, across replicas too.
/// </summary>
public sealed partial class EvidenceLog(NpgsqlDataSource dataSource, TimeProvider clock, ILogger<EvidenceLog> logger)
{
    /// <summary>The inbox name under which consumed message ids are remembered.</summary>
    public const string InboxConsumer = "evidence";

    // Any constant distinct from the migrator's and the outbox relay's locks.
    private const long AppendLockKey = 0x45766964656E6365; // "Evidence"

    internal static readonly ActivitySource Source = ControlPlaneTelemetry.CreateSource("Evidence");
    private static readonly Meter Meter = new(ControlPlaneTelemetry.SourcePrefix + "Evidence");
    private static readonly Counter<long> Appended = Meter.CreateCounter<long>("controlplane.evidence.records", "{record}", "Evidence records appended");
    private static readonly Counter<long> Duplicates = Meter.CreateCounter<long>("controlplane.evidence.duplicates", "{message}", "Redelivered messages evidence had already recorded");
    private static readonly Histogram<double> AppendDuration = Meter.CreateHistogram<double>("controlplane.evidence.append.duration", "ms", "Time to append one record, lock wait included");

    /// <summary>Records a consumed message once: the inbox entry and the record commit together. Null when it was a redelivery.</summary>
    /// <param name="alongside">Work that commits with the record (the autonomy projection), or null.</param>
    public async Task<EvidenceRecord?> AppendOnceAsync(EvidenceDraft draft, Guid messageId, CancellationToken cancellationToken, Func<UnitOfWork, Task>? alongside = null)
    {
        ArgumentNullException.ThrowIfNull(draft);
        using var activity = Source.StartActivity($"evidence append {draft.Kind}");
        var started = Stopwatch.GetTimestamp();
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        if (!await work.AcceptOnceAsync(InboxConsumer, messageId, cancellationToken))
        {
            Duplicates.Add(1);
            LogDuplicate(logger, draft.Kind, messageId);
            return null;
        }

        var record = await AppendAsync(work, draft, messageId, cancellationToken);
        if (alongside is not null)
        {
            await alongside(work);
        }

        await work.CommitAsync(cancellationToken);
        Appended.Add(1, new KeyValuePair<string, object?>("kind", draft.Kind));
        AppendDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        activity?.SetTag("controlplane.evidence.sequence", record.Sequence);
        LogAppended(logger, record.Sequence, record.Kind, record.ProposalId);
        return record;
    }

    /// <summary>Appends inside the caller's transaction; the advisory lock is held until that transaction ends.</summary>
    public async Task<EvidenceRecord> AppendAsync(UnitOfWork work, EvidenceDraft draft, Guid? messageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(draft);

        // Two statements in one round trip; under READ COMMITTED the second reads a snapshot taken after the lock
        // was granted, so it sees every append committed before ours.
        await using var batch = new NpgsqlBatch(work.Connection, work.Transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand($"select pg_advisory_xact_lock({AppendLockKey})"),
                new NpgsqlBatchCommand("""
                    select (select sequence from evidence_records order by sequence desc limit 1),
                           (select record_hash from evidence_records order by sequence desc limit 1),
                           (select record_hash from evidence_records where proposal_id = $1 order by sequence desc limit 1)
                    """)
                {
                    Parameters = { new() { Value = (object?)draft.ProposalId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid } },
                },
            },
        };

        long headSequence = 0;
        string headHash = EvidenceFormat.Genesis, proposalHead = EvidenceFormat.Genesis;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            await reader.NextResultAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            if (!reader.IsDBNull(0))
            {
                headSequence = reader.GetInt64(0);
                headHash = reader.GetString(1);
            }

            if (!reader.IsDBNull(2))
            {
                proposalHead = reader.GetString(2);
            }
        }

        var position = new ChainPosition(headSequence + 1, headHash, draft.ProposalId is null ? null : proposalHead);
        var recordedAt = EvidenceFormat.Truncate(clock.GetUtcNow());
        var record = EvidenceChain.Seal(draft, position, Guid.CreateVersion7(), recordedAt);

        await using var insert = work.Command("""
            insert into evidence_records (sequence, record_id, message_id, kind, proposal_id, actor, occurred_at, recorded_at,
                                          payload, payload_hash, prev_hash, proposal_prev_hash, record_hash)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            """);
        insert.Parameters.Add(new() { Value = record.Sequence });
        insert.Parameters.Add(new() { Value = Guid.Parse(record.RecordId) });
        insert.Parameters.Add(new() { Value = (object?)messageId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        insert.Parameters.Add(new() { Value = record.Kind });
        insert.Parameters.Add(new() { Value = (object?)draft.ProposalId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        insert.Parameters.Add(new() { Value = (object?)record.Actor ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        insert.Parameters.Add(new() { Value = EvidenceFormat.Truncate(draft.OccurredAt) });
        insert.Parameters.Add(new() { Value = recordedAt });
        insert.Parameters.Add(new() { Value = Encoding.UTF8.GetString(draft.CanonicalPayload) });
        insert.Parameters.Add(new() { Value = record.PayloadHash });
        insert.Parameters.Add(new() { Value = record.PrevHash });
        insert.Parameters.Add(new() { Value = (object?)record.ProposalPrevHash ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        insert.Parameters.Add(new() { Value = record.RecordHash });
        await insert.ExecuteNonQueryAsync(cancellationToken);
        return record;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Recorded evidence {Sequence} {Kind} for proposal {ProposalId}")]
    private static partial void LogAppended(ILogger logger, long sequence, string kind, string? proposalId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Message {MessageId} ({Kind}) was already recorded; redelivery ignored")]
    private static partial void LogDuplicate(ILogger logger, string kind, Guid messageId);
}
