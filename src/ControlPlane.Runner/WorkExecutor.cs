using System.Net;
using ControlPlane.Contracts;
using ControlPlane.Runner.Actions;
using ControlPlane.Runner.FleetLink;
using ControlPlane.Runner.Reporting;
using ControlPlane.Runner.Verification;
using ControlPlane.ServiceDefaults.Messaging;

namespace ControlPlane.Runner;

/// <summary>
/// One delivered package, start to end: verify it (refuse with the precise reason on any failure and do nothing
/// else), find the configured handler (refuse when there is none), have fleet confirm the signed "accepted"
/// acknowledgement (a superseded offer is dropped, an unreachable fleet is waited for), record it in the execution
/// ledger, sign "started" before the action runs, run it, and queue the signed result for fleet.
/// </summary>
public sealed partial class WorkExecutor(
    PackageVerifier verifier, IEnumerable<IActionHandler> handlers, RunnerKey key, RunnerAgreementKey agreementKey, ReportOutbox reports,
    ReplayStore ledger, FleetClient fleet, RunnerOptions options, TimeProvider clock, ILogger<WorkExecutor> logger)
{
    private readonly Dictionary<string, IActionHandler> _handlers = handlers.ToDictionary(h => h.ActionKind, StringComparer.Ordinal);

    public async Task HandleAsync(DeliverWorkPackage delivery, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var verdict = await verifier.VerifyAsync(delivery, ct);
        if (verdict.Duplicate)
        {
            LogDuplicate(logger, delivery.WorkId);
            return;
        }

        if (!verdict.Accepted)
        {
            Refuse(delivery.WorkId, verdict.Package, verdict.Refusal!);
            return;
        }

        var package = verdict.Package!;
        if (!_handlers.TryGetValue(package.ActionKind, out var handler))
        {
            Refuse(delivery.WorkId, package, $"no handler for action {package.ActionKind}");
            return;
        }

        if (handler.Refusal(package) is { } denied)
        {
            Refuse(delivery.WorkId, package, denied);
            return;
        }

        // Opened before acceptance: a credential that does not open is a refusal, never a run without it.
        var (credential, sealRefusal) = agreementKey.Open(package, options.Id);
        if (sealRefusal is not null)
        {
            Refuse(delivery.WorkId, package, sealRefusal);
            return;
        }

        if (package.Credential?.Withheld is { } withheld)
        {
            LogNoCredential(logger, package.WorkId, withheld);
        }

        if (!await ConfirmAcceptedAsync(package, ct))
        {
            return;
        }

        if (ledger.TryAccept(package, clock.GetUtcNow(), options.ClockSkew) is { } refusal)
        {
            Refuse(delivery.WorkId, package, refusal);
            return;
        }

        // Started is durable before the action runs: from here a crash may leave the change half applied, and the
        // ledger (and orchestrator, through the signed acknowledgement) must know it.
        ledger.Advance(package.WorkId, LedgerStage.Started, clock.GetUtcNow());
        reports.Enqueue(package.WorkId, key.Sign(Ack(package, WorkAckStage.Started)), refusalReason: null, isAck: true);
        ActionOutcome outcome;
        try
        {
            outcome = await handler.RunAsync(package, credential, package.ExpiresAt, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The package was accepted (its nonce is spent): report rather than leave fleet waiting for the expiry.
            outcome = new ActionOutcome(WorkOutcome.Failed, null, TimeSpan.Zero, ActionOutcome.EmptyDigest, null, "the runner stopped while the action ran");
        }
        catch (Exception ex)
        {
            LogHandlerFailed(logger, ex, package.WorkId);
            outcome = new ActionOutcome(WorkOutcome.Failed, null, TimeSpan.Zero, ActionOutcome.EmptyDigest, null, $"the {package.ActionKind} handler failed: {ex.GetType().Name}");
        }

        ledger.Advance(package.WorkId, LedgerStage.Finished, clock.GetUtcNow());
        if (outcome.Outcome == WorkOutcome.Refused)
        {
            Refuse(delivery.WorkId, package, outcome.Reason!);
            return;
        }

        var result = new WorkResult(package.WorkId, package.ProposalId, package.Step, options.Id, outcome.Outcome, outcome.ExitCode, outcome.Duration,
            outcome.OutputDigest, outcome.Excerpt, outcome.Reason, clock.GetUtcNow());
        reports.Enqueue(package.WorkId, key.Sign(result), refusalReason: null);
        LogCompleted(logger, package.WorkId, outcome.Outcome, outcome.Reason);
    }

    /// <summary>
    /// Fleet confirms the package is still the current offer of its work before anything is recorded or run, so a
    /// package fleet re-offered elsewhere (no acknowledgement in time) never runs as well. True: go ahead.
    /// </summary>
    private async Task<bool> ConfirmAcceptedAsync(WorkPackage package, CancellationToken ct)
    {
        FleetAnswer answer;
        try
        {
            answer = await fleet.AcknowledgeAsync(package.WorkId, key.Sign(Ack(package, WorkAckStage.Accepted)), ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new TransientDependencyException($"fleet could not confirm work {package.WorkId}: {ex.Message}", ex);
        }

        if (answer.IsSuccess)
        {
            return true;
        }

        if (FleetClient.IsTransient(answer))
        {
            throw new TransientDependencyException($"fleet could not confirm work {package.WorkId} ({(int)answer.Status}): {answer.Detail}");
        }

        if (answer.Status == HttpStatusCode.Conflict)
        {
            LogSuperseded(logger, package.WorkId, answer.Detail);
            return false; // fleet offered the work elsewhere or withdrew it: not ours to run, and nothing to refuse
        }

        Refuse(package.WorkId, package, $"fleet did not confirm the package ({(int)answer.Status}): {answer.Detail}");
        return false;
    }

    private WorkAck Ack(WorkPackage package, WorkAckStage stage) =>
        new(package.WorkId, package.ProposalId, package.Step, options.Id, package.Nonce, stage, clock.GetUtcNow());

    private void Refuse(Guid workId, WorkPackage? package, string reason)
    {
        // Signed like a result, so fleet and evidence know the refusal really came from this runner.
        var refusal = new WorkResult(workId, package?.ProposalId ?? Guid.Empty, package?.Step ?? WorkStep.Validate, options.Id, WorkOutcome.Refused,
            null, TimeSpan.Zero, ActionOutcome.EmptyDigest, null, reason, clock.GetUtcNow());
        reports.Enqueue(workId, key.Sign(refusal), reason);
        LogRefused(logger, workId, reason);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused work {WorkId}: {Reason}")]
    private static partial void LogRefused(ILogger logger, Guid workId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Work {WorkId} finished: {Outcome} {Reason}")]
    private static partial void LogCompleted(ILogger logger, Guid workId, WorkOutcome outcome, string? reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Work {WorkId} is already being handled here; the second delivery is dropped")]
    private static partial void LogDuplicate(ILogger logger, Guid workId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Work {WorkId} was offered elsewhere or withdrawn ({Detail}); not running it")]
    private static partial void LogSuperseded(ILogger logger, Guid workId, string? detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Work {WorkId} carries no target credential: {Withheld}")]
    private static partial void LogNoCredential(ILogger logger, Guid workId, string withheld);

    [LoggerMessage(Level = LogLevel.Error, Message = "The handler of work {WorkId} failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, Guid workId);
}
