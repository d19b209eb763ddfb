using ControlPlane.Contracts;
using ControlPlane.Runner.Actions;
using ControlPlane.Runner.FleetLink;
using ControlPlane.Runner.Reporting;
using ControlPlane.Runner.Verification;

namespace ControlPlane.Runner;

/// <summary>
/// One delivered package, start to end: verify it (refuse with the precise reason on any failure and do nothing
/// else), find the configured handler (refuse when there is none), run it, and queue the signed result for fleet.
/// </summary>
public sealed partial class WorkExecutor(
    PackageVerifier verifier, IEnumerable<IActionHandler> handlers, RunnerKey key, ReportOutbox reports, RunnerOptions options,
    TimeProvider clock, ILogger<WorkExecutor> logger)
{
    private readonly Dictionary<string, IActionHandler> _handlers = handlers.ToDictionary(h => h.ActionKind, StringComparer.Ordinal);

    public async Task HandleAsync(DeliverWorkPackage delivery, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var verdict = await verifier.VerifyAsync(delivery, ct);
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

        ActionOutcome outcome;
        try
        {
            outcome = await handler.RunAsync(package, package.ExpiresAt, ct);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "The handler of work {WorkId} failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, Guid workId);
}
