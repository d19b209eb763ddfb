using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification.Redaction;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Telemetry;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Evidence.Recording;

/// <summary>
/// Appends to the evidence chain. Appends are serialized by a transaction-scoped advisory lock: a writer takes
/// the lock, reads the global head and its proposals' heads, inserts, and commits (which releases the lock),
/// so two writers never extend the same head and the chain never forks, across replicas too.
/// Consumed messages are appended by group commit: whoever finds the writer free appends every message queued
/// so far, in queue order, under one lock in one transaction, and each caller returns only after that commit.
/// </summary>
public sealed partial class EvidenceLog(NpgsqlDataSource dataSource, TimeProvider clock, ILogger<EvidenceLog> logger)
{
    /// <summary>The inbox name under which consumed message ids are remembered.</summary>
    public const string InboxConsumer = "evidence";

    /// <summary>The most records one transaction appends; more waiting go in the next.</summary>
    public const int MaxBatch = 512;

    // Any constant distinct from the migrator's and the outbox relay's locks.
    private const long AppendLockKey = 0x45766964656E6365; // "Evidence"

    private static readonly Meter Meter = new(ControlPlaneTelemetry.SourcePrefix + "Evidence");
    private static readonly Counter<long> Appended = Meter.CreateCounter<long>("controlplane.evidence.records", "{record}", "Evidence records appended");
    private static readonly Counter<long> Duplicates = Meter.CreateCounter<long>("controlplane.evidence.duplicates", "{message}", "Redelivered messages evidence had already recorded");
    private static readonly Histogram<double> AppendDuration = Meter.CreateHistogram<double>("controlplane.evidence.append.duration", "ms", "Time to append one record, queue and lock wait included");
    private static readonly Histogram<int> BatchSize = Meter.CreateHistogram<int>("controlplane.evidence.append.batch", "{record}", "Records appended in one transaction");

    private readonly ConcurrentQueue<PendingAppend> _queue = new();
    private readonly SemaphoreSlim _writer = new(1, 1);

    /// <summary>
    /// Records a consumed message once: the inbox entry, the record and <paramref name="alongside"/> commit together.
    /// Null when it was a redelivery.
    /// </summary>
    /// <param name="alongside">Statements that commit with the record (the autonomy projection), made fresh on each attempt.</param>
    public async Task<EvidenceRecord?> AppendOnceAsync(EvidenceDraft draft, Guid messageId, CancellationToken cancellationToken,
        Func<IEnumerable<NpgsqlBatchCommand>>? alongside = null)
    {
        ArgumentNullException.ThrowIfNull(draft);
        // The consume span already covers the append (queue and lock wait included): tag it rather than add a span per
        // record, which the trace backend would ingest thousands of times a second.
        var activity = Activity.Current;
        var pending = new PendingAppend(draft, messageId, alongside, Stopwatch.GetTimestamp());
        _queue.Enqueue(pending);
        while (!pending.Done.Task.IsCompleted)
        {
            // Canceled here, the append may still be written by the next writer: a redelivery then finds it in the inbox.
            await _writer.WaitAsync(cancellationToken);
            try
            {
                if (!pending.Done.Task.IsCompleted)
                {
                    await WriteQueuedAsync(cancellationToken);
                }
            }
            finally
            {
                _writer.Release();
            }
        }

        var record = await pending.Done.Task;
        activity?.SetTag("controlplane.evidence.sequence", record?.Sequence);
        return record;
    }

    /// <summary>Appends inside the caller's transaction; the advisory lock is held until that transaction ends.</summary>
    public async Task<EvidenceRecord> AppendAsync(UnitOfWork work, EvidenceDraft draft, Guid? messageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(draft);
        var (records, _) = await AppendAllAsync(work, [new ChainAppend(draft, messageId, null)], inboxChecked: false, cancellationToken);
        return records[0]!;
    }

    private async Task WriteQueuedAsync(CancellationToken cancellationToken)
    {
        var batch = new List<PendingAppend>();
        while (batch.Count < MaxBatch && _queue.TryDequeue(out var next))
        {
            batch.Add(next);
        }

        if (batch.Count == 0)
        {
            return;
        }

        // A batch holds what consumers handed over at about the same time, in the order they reached the queue; events
        // of one proposal from different services often arrive together. Appended in the order they happened (stable,
        // so equal times keep their arrival order), cause comes before effect in the log as well as in time.
        batch = [.. batch.OrderBy(p => p.Draft.OccurredAt)];
        try
        {
            await WriteAsync(batch, cancellationToken);
        }
        catch (Exception) when (batch.Count > 1 && !cancellationToken.IsCancellationRequested)
        {
            // One bad message must not fail the others: each goes again in a transaction of its own.
            foreach (var pending in batch)
            {
                try
                {
                    await WriteAsync([pending], cancellationToken);
                }
                catch (Exception ex)
                {
                    pending.Done.TrySetException(ex);
                }
            }
        }
        catch (Exception ex)
        {
            foreach (var pending in batch)
            {
                pending.Done.TrySetException(ex);
            }
        }
    }

    private async Task WriteAsync(IReadOnlyList<PendingAppend> batch, CancellationToken cancellationToken)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        var appends = batch.Select(p => new ChainAppend(p.Draft, p.MessageId, p.Alongside)).ToArray();
        var (records, duplicates) = await AppendAllAsync(work, appends, inboxChecked: true, cancellationToken);
        await work.CommitAsync(cancellationToken);

        BatchSize.Record(batch.Count - duplicates);
        for (var i = 0; i < batch.Count; i++)
        {
            var (pending, record) = (batch[i], records[i]);
            if (record is null)
            {
                Duplicates.Add(1);
                LogDuplicate(logger, pending.Draft.Kind, pending.MessageId);
            }
            else
            {
                Appended.Add(1, new KeyValuePair<string, object?>("kind", record.Kind));
                AppendDuration.Record(Stopwatch.GetElapsedTime(pending.Started).TotalMilliseconds);
                LogAppended(logger, record.Sequence, record.Kind, record.ProposalId);
            }

            pending.Done.TrySetResult(record);
        }
    }

    /// <summary>
    /// Takes the lock, files the message ids in the inbox (when <paramref name="inboxChecked"/>), reads the heads,
    /// and holds back the inserts of every new record with its alongside statements, in order, for the commit: two round
    /// trips for the whole batch with it.
    /// A record is null where its message had been recorded before.
    /// </summary>
    private async Task<(EvidenceRecord?[] Records, int Duplicates)> AppendAllAsync(UnitOfWork work, IReadOnlyList<ChainAppend> appends,
        bool inboxChecked, CancellationToken cancellationToken)
    {
        var proposals = appends.Where(a => a.Draft.ProposalId is not null).Select(a => a.Draft.ProposalId!.Value).Distinct().ToArray();
        var messageIds = inboxChecked ? appends.Select(a => a.MessageId!.Value).Distinct().ToArray() : [];

        // Under READ COMMITTED each statement after the lock reads a snapshot taken after it was granted, so it sees
        // every append committed before ours.
        await using var read = new NpgsqlBatch(work.Connection, work.Transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand($"select pg_advisory_xact_lock({AppendLockKey})"),
                new NpgsqlBatchCommand("""
                    insert into inbox_messages (consumer, message_id) select $1, id from unnest($2::uuid[]) as id
                    on conflict do nothing returning message_id
                    """)
                {
                    Parameters = { new() { Value = InboxConsumer }, new() { Value = messageIds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid } },
                },
                new NpgsqlBatchCommand("select sequence, record_hash from evidence_records order by sequence desc limit 1"),
                new NpgsqlBatchCommand("""
                    select distinct on (proposal_id) proposal_id, record_hash from evidence_records
                    where proposal_id = any($1) order by proposal_id, sequence desc
                    """)
                {
                    Parameters = { new() { Value = proposals, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid } },
                },
            },
        };

        var accepted = new HashSet<Guid>();
        long headSequence = 0;
        var headHash = EvidenceFormat.Genesis;
        var proposalHeads = new Dictionary<Guid, string>();
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                accepted.Add(reader.GetGuid(0));
            }

            await reader.NextResultAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                headSequence = reader.GetInt64(0);
                headHash = reader.GetString(1);
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                proposalHeads[reader.GetGuid(0)] = reader.GetString(1);
            }
        }

        var records = new EvidenceRecord?[appends.Count];
        var duplicates = 0;
        var recordedAt = EvidenceFormat.Truncate(clock.GetUtcNow());
        var rows = new RecordRows(appends.Count);
        var fieldRows = new FieldRows();
        var alongsideCommands = new List<NpgsqlBatchCommand>();
        for (var i = 0; i < appends.Count; i++)
        {
            var (draft, messageId, alongside) = appends[i];
            // Remove, not Contains: a message id twice in one batch is recorded once.
            if (inboxChecked && !accepted.Remove(messageId!.Value))
            {
                duplicates++;
                continue;
            }

            string? proposalPrev = null;
            if (draft.ProposalId is { } proposalId)
            {
                proposalPrev = proposalHeads.GetValueOrDefault(proposalId, EvidenceFormat.Genesis);
            }

            // Sensitive fields enter the leaf as salted commitments; their values and salts go beside the record.
            var (payload, fields) = SensitiveFields.Commit(draft.Kind, draft.CanonicalPayload, NewSalt);
            draft = fields.Count == 0 ? draft : draft with { CanonicalPayload = payload };
            var record = EvidenceChain.Seal(draft, new ChainPosition(headSequence + 1, headHash, proposalPrev), Guid.CreateVersion7(), recordedAt);
            (headSequence, headHash) = (record.Sequence, record.RecordHash);
            if (draft.ProposalId is { } id)
            {
                proposalHeads[id] = record.RecordHash;
            }

            records[i] = record;
            rows.Add(record, draft, messageId);
            foreach (var field in fields)
            {
                fieldRows.Add(record.Sequence, field);
            }

            alongsideCommands.AddRange(alongside?.Invoke() ?? []);
        }

        if (rows.Count > 0)
        {
            // One statement per table for the whole batch (the same text whatever its size, so it stays prepared), held
            // back to go with the commit: the lock is held one round trip less.
            work.Defer(rows.Insert(recordedAt));
            if (fieldRows.Count > 0)
            {
                work.Defer(fieldRows.Insert());
            }

            foreach (var command in alongsideCommands)
            {
                work.Defer(command);
            }
        }

        return (records, duplicates);
    }

    private static byte[] NewSalt() => RandomNumberGenerator.GetBytes(FieldCommitment.SaltBytes);

    private sealed record ChainAppend(EvidenceDraft Draft, Guid? MessageId, Func<IEnumerable<NpgsqlBatchCommand>>? Alongside);

    private sealed class PendingAppend(EvidenceDraft draft, Guid messageId, Func<IEnumerable<NpgsqlBatchCommand>>? alongside, long started)
    {
        public EvidenceDraft Draft { get; } = draft;
        public Guid MessageId { get; } = messageId;
        public Func<IEnumerable<NpgsqlBatchCommand>>? Alongside { get; } = alongside;
        public long Started { get; } = started;

        /// <summary>Completed only after the transaction holding the record committed (null: a redelivery).</summary>
        public TaskCompletionSource<EvidenceRecord?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Recorded evidence {Sequence} {Kind} for proposal {ProposalId}")]
    private static partial void LogAppended(ILogger logger, long sequence, string kind, string? proposalId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Message {MessageId} ({Kind}) was already recorded; redelivery ignored")]
    private static partial void LogDuplicate(ILogger logger, string kind, Guid messageId);
}
