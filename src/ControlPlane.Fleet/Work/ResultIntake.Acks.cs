using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Fleet.Work;

/// <summary>
/// Acknowledgements and late results. An "accepted" acknowledgement is the runner asking whether the package it
/// holds is still the current offer: it is confirmed only for the runner and nonce of the current issue, under the
/// work row's lock, so a re-offer (which takes the same lock) and an acceptance can never both win.
/// </summary>
public sealed partial class ResultIntake
{
    public async Task<IntakeVerdict> AcceptAckAsync(Caller caller, Guid workId, DsseEnvelope? envelope, CancellationToken ct)
    {
        var runner = await registry.FindAsync(caller.Id, ct);
        if (runner is null)
        {
            return Reject(IntakeStatus.Forbidden, $"runner {caller.Id} is not registered");
        }

        if (Runners.RegistrationRules.CallerMismatch(caller, runner.Id, runner.Fleet) is { } mismatch)
        {
            return Reject(IntakeStatus.Forbidden, mismatch);
        }

        var opened = SignedResults.OpenAck(envelope, runner.Id, runner.KeyId, runner.PublicKey, workId);
        if (opened.Check != ResultCheck.Valid)
        {
            return Reject(opened.Check == ResultCheck.BadSignature ? IntakeStatus.Forbidden : IntakeStatus.Invalid, opened.Failure!);
        }

        var ack = opened.Ack!;
        var now = clock.GetUtcNow();
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        var item = await LockWorkAsync(work, workId, ct);
        if (item is null)
        {
            return Reject(IntakeStatus.NotFound, $"work {workId} is unknown");
        }

        if (!string.Equals(item.RunnerId, caller.Id, StringComparison.Ordinal) || !string.Equals(item.Nonce, ack.Nonce, StringComparison.Ordinal))
        {
            return Reject(IntakeStatus.Conflict, $"work {workId} was offered again (another package is current); this package must not run");
        }

        if (item.Status != "issued")
        {
            return Reject(IntakeStatus.Conflict, $"work {workId} is {item.Status}; its package must not run");
        }

        var already = ack.Stage == WorkAckStage.Accepted ? item.Accepted : item.Started;
        if (already)
        {
            return new IntakeVerdict(IntakeStatus.AlreadyRecorded, $"work {workId} was already acknowledged as {Stage(ack.Stage)}");
        }

        await using (var update = await work.CommandAsync(ack.Stage == WorkAckStage.Accepted
            ? "update work_items set accepted_at = $2 where work_id = $1"
            : "update work_items set accepted_at = coalesce(accepted_at, $2), started_at = $2 where work_id = $1"))
        {
            update.Parameters.Add(new() { Value = workId });
            update.Parameters.Add(new() { Value = now });
            await update.ExecuteNonQueryAsync(ct);
        }

        await work.EnqueueAsync(new WorkAcknowledged(item.ProposalId, workId, item.Step, caller.Id, ack.Stage, envelope!, now), ct);
        await work.CommitAsync(ct);
        LogAck(logger, workId, caller.Id, Stage(ack.Stage));
        return new IntakeVerdict(IntakeStatus.Accepted, $"work {workId} acknowledged as {Stage(ack.Stage)}");
    }

    /// <summary>A result of work that was withdrawn or timed out: evidence that it came, never a second outcome.</summary>
    private async Task<IntakeVerdict> RecordSupersededAsync(UnitOfWork work, WorkRow item, Guid workId, string runnerId, WorkResult result,
        DsseEnvelope envelope, DateTimeOffset now, CancellationToken ct)
    {
        if (string.Equals(item.ResultPayload, envelope.Payload, StringComparison.Ordinal))
        {
            return new IntakeVerdict(IntakeStatus.AlreadyRecorded, $"the late result of work {workId} was already recorded as superseded");
        }

        await using (var keep = await work.CommandAsync("update work_items set result_envelope = $2 where work_id = $1"))
        {
            keep.Parameters.Add(new() { Value = workId });
            keep.Parameters.Add(new()
            {
                Value = System.Text.Json.JsonSerializer.Serialize(envelope, ContractJson.Options),
                NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Jsonb,
            });
            await keep.ExecuteNonQueryAsync(ct);
        }

        var reason = $"work {workId} was {item.Status} before this result arrived";
        await work.EnqueueAsync(new WorkResultSuperseded(item.ProposalId, workId, runnerId, result.Outcome, envelope, reason, now), ct);
        await work.CommitAsync(ct);
        LogSuperseded(logger, workId, runnerId, item.Status);
        return new IntakeVerdict(IntakeStatus.AlreadyRecorded, $"the result of work {workId} was recorded as superseded: {reason}");
    }

    private static string Stage(WorkAckStage stage) => stage == WorkAckStage.Accepted ? "accepted" : "started";

    [LoggerMessage(Level = LogLevel.Information, Message = "Runner {RunnerId} acknowledged work {WorkId}: {Stage}")]
    private static partial void LogAck(ILogger logger, Guid workId, string runnerId, string stage);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Late result of work {WorkId} from runner {RunnerId} recorded as superseded (the work was {Status})")]
    private static partial void LogSuperseded(ILogger logger, Guid workId, string runnerId, string status);
}
