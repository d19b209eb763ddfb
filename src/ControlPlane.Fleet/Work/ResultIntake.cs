using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Fleet.Runners;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Security;
using Npgsql;

namespace ControlPlane.Fleet.Work;

public enum IntakeStatus
{
    Accepted,
    AlreadyRecorded,
    Invalid,
    Forbidden,
    NotFound,
    Conflict,
}

/// <summary>What happened to a reported result or refusal; Matched says a refusal closed outstanding work.</summary>
public sealed record IntakeVerdict(IntakeStatus Status, string Detail, bool Matched = false);

/// <summary>
/// Takes runners' signed results and refusals. A result counts only when its signature verifies against the
/// reporting runner's registered key, that runner was the package's audience and the work is still outstanding;
/// then WorkCompleted carries the signed envelope. A refusal is always recorded (WorkRefused): with the proposal
/// and work ids when it closes outstanding work of that runner, without them otherwise, so a refused replay or a
/// forged package is evidence without disturbing the lifecycle of real work.
/// </summary>
public sealed partial class ResultIntake(NpgsqlDataSource dataSource, RunnerRegistry registry, TimeProvider clock, ILogger<ResultIntake> logger)
{
    public const int MaxReasonLength = 2000;

    public async Task<IntakeVerdict> AcceptResultAsync(Caller caller, Guid workId, DsseEnvelope? envelope, CancellationToken ct)
    {
        var (opened, rejected) = await OpenAsync(caller, workId, envelope, ct);
        if (rejected is not null)
        {
            return rejected;
        }

        var result = opened!.Result!;
        if (result.Outcome == WorkOutcome.Refused)
        {
            return Reject(IntakeStatus.Invalid, $"a refusal is reported at /fleet/work/{workId}/refusal");
        }

        var now = clock.GetUtcNow();
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        var item = await LockWorkAsync(work, workId, ct);
        if (item is null)
        {
            return Reject(IntakeStatus.NotFound, $"work {workId} is unknown");
        }

        if (!string.Equals(item.RunnerId, caller.Id, StringComparison.Ordinal))
        {
            return Reject(IntakeStatus.Forbidden, $"work {workId} was not issued to runner {caller.Id}");
        }

        if (result.ProposalId != item.ProposalId || result.Step != item.Step)
        {
            return Reject(IntakeStatus.Invalid, $"the signed result names proposal {result.ProposalId} step {WorkDispatcher.StepName(result.Step)}, " +
                $"but work {workId} is step {WorkDispatcher.StepName(item.Step)} of proposal {item.ProposalId}");
        }

        if (item.Status == "completed" && string.Equals(item.ResultPayload, envelope!.Payload, StringComparison.Ordinal))
        {
            return new IntakeVerdict(IntakeStatus.AlreadyRecorded, $"the result of work {workId} was already recorded");
        }

        if (item.Status is "superseded" or "timed-out")
        {
            return await RecordSupersededAsync(work, item, workId, caller.Id, result, envelope!, now, ct);
        }

        if (item.Status != "issued")
        {
            return Reject(IntakeStatus.Conflict, $"work {workId} is {item.Status}; it no longer takes a result");
        }

        await WorkDispatcher.CloseAsync(work, workId, "completed", result.Outcome, result.Reason, now, ct, envelope);
        await work.EnqueueAsync(new WorkCompleted(item.ProposalId, workId, item.Step, caller.Id, result.Outcome, envelope, result.Reason, now), ct);
        await work.CommitAsync(ct);
        FleetTelemetry.ResultsAccepted.Add(1);
        LogResult(logger, workId, caller.Id, result.Outcome);
        return new IntakeVerdict(IntakeStatus.Accepted, $"result of work {workId} recorded");
    }

    public async Task<IntakeVerdict> AcceptRefusalAsync(Caller caller, Guid workId, WorkRefusal? refusal, CancellationToken ct)
    {
        if (refusal is null || string.IsNullOrWhiteSpace(refusal.Reason) || refusal.Reason.Length > MaxReasonLength)
        {
            return Reject(IntakeStatus.Invalid, $"a refusal needs a reason of 1-{MaxReasonLength} characters and the signed envelope");
        }

        var (opened, rejected) = await OpenAsync(caller, workId, refusal.Envelope, ct);
        if (rejected is not null)
        {
            return rejected;
        }

        var signed = opened!.Result!;
        if (signed.Outcome != WorkOutcome.Refused || !string.Equals(signed.Reason, refusal.Reason, StringComparison.Ordinal))
        {
            return Reject(IntakeStatus.Invalid, "the envelope must sign a work result with outcome refused and the same reason");
        }

        var now = clock.GetUtcNow();
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        await using (var once = await work.CommandAsync("""
            insert into work_refusals (runner_id, envelope_digest, work_id, reason, matched, refused_at)
            values ($1, $2, $3, $4, false, $5) on conflict do nothing
            """))
        {
            once.Parameters.Add(new() { Value = caller.Id });
            once.Parameters.Add(new() { Value = opened.PayloadDigest! });
            once.Parameters.Add(new() { Value = workId });
            once.Parameters.Add(new() { Value = refusal.Reason });
            once.Parameters.Add(new() { Value = now });
            if (await once.ExecuteNonQueryAsync(ct) == 0)
            {
                return new IntakeVerdict(IntakeStatus.AlreadyRecorded, $"this refusal of work {workId} was already recorded");
            }
        }

        var item = await LockWorkAsync(work, workId, ct);
        var matched = item is not null && item.Status == "issued" && string.Equals(item.RunnerId, caller.Id, StringComparison.Ordinal);
        if (matched)
        {
            await WorkDispatcher.CloseAsync(work, workId, "refused", WorkOutcome.Refused, refusal.Reason, now, ct, refusal.Envelope);
            await using var mark = await work.CommandAsync("update work_refusals set matched = true where runner_id = $1 and envelope_digest = $2");
            mark.Parameters.Add(new() { Value = caller.Id });
            mark.Parameters.Add(new() { Value = opened.PayloadDigest! });
            await mark.ExecuteNonQueryAsync(ct);
            await work.EnqueueAsync(new WorkRefused(item!.ProposalId, workId, caller.Id, refusal.Reason, now), ct);
        }
        else
        {
            var why = item is null ? "unknown to fleet" : item.Status == "issued" ? $"issued to {item.RunnerId}" : item.Status;
            await work.EnqueueAsync(new WorkRefused(null, null, caller.Id, $"{refusal.Reason} (work {workId}: {why})", now), ct);
        }

        await work.CommitAsync(ct);
        FleetTelemetry.Refusals.Add(1, new KeyValuePair<string, object?>("matched", matched));
        LogRefusal(logger, workId, caller.Id, matched);
        return new IntakeVerdict(IntakeStatus.Accepted, $"refusal of work {workId} recorded", matched);
    }

    /// <summary>The caller must be a registered runner of its token's fleet, and the envelope must verify against its key.</summary>
    private async Task<(OpenedResult? Opened, IntakeVerdict? Rejected)> OpenAsync(Caller caller, Guid workId, DsseEnvelope? envelope, CancellationToken ct)
    {
        var runner = await registry.FindAsync(caller.Id, ct);
        if (runner is null)
        {
            return (null, Reject(IntakeStatus.Forbidden, $"runner {caller.Id} is not registered"));
        }

        if (RegistrationRules.CallerMismatch(caller, runner.Id, runner.Fleet) is { } mismatch)
        {
            return (null, Reject(IntakeStatus.Forbidden, mismatch));
        }

        var opened = SignedResults.Open(envelope, runner.Id, runner.KeyId, runner.PublicKey, workId);
        return opened.Check switch
        {
            ResultCheck.Valid => (opened, null),
            ResultCheck.BadSignature => (null, Reject(IntakeStatus.Forbidden, opened.Failure!)),
            _ => (null, Reject(IntakeStatus.Invalid, opened.Failure!)),
        };
    }

    private IntakeVerdict Reject(IntakeStatus status, string detail)
    {
        FleetTelemetry.ResultsRejected.Add(1);
        LogRejected(logger, status, detail);
        return new IntakeVerdict(status, detail);
    }

    private sealed record WorkRow(Guid ProposalId, WorkStep Step, string Status, string? RunnerId, string? ResultPayload, string? Nonce = null,
        bool Accepted = false, bool Started = false);

    private static async Task<WorkRow?> LockWorkAsync(UnitOfWork work, Guid workId, CancellationToken ct)
    {
        await using var select = await work.CommandAsync("""
            select proposal_id, step, status, runner_id, result_envelope::text, nonce, accepted_at is not null, started_at is not null
            from work_items where work_id = $1 for update
            """);
        select.Parameters.Add(new() { Value = workId });
        await using var reader = await select.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        string? payload = null;
        if (!reader.IsDBNull(4))
        {
            payload = JsonSerializer.Deserialize<DsseEnvelope>(reader.GetString(4), ContractJson.Options)?.Payload;
        }

        return new WorkRow(reader.GetGuid(0), WorkDispatcher.ParseStep(reader.GetString(1)), reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3), payload, reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetBoolean(6), reader.GetBoolean(7));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Runner {RunnerId} reported work {WorkId}: {Outcome}")]
    private static partial void LogResult(ILogger logger, Guid workId, string runnerId, WorkOutcome outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Runner {RunnerId} refused work {WorkId} (outstanding: {Matched})")]
    private static partial void LogRefusal(ILogger logger, Guid workId, string runnerId, bool matched);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected a runner report ({Status}): {Detail}")]
    private static partial void LogRejected(ILogger logger, IntakeStatus status, string detail);
}
