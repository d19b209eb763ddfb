using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.Orchestrator.Timers;

namespace ControlPlane.Orchestrator.Lifecycle;

/// <summary>
/// What a step's result means for the proposal: WorkCompleted and WorkRefused land here. Unknown work ids and
/// results for work that is no longer pending (duplicates, late answers, superseded offers) change nothing.
/// </summary>
public sealed partial class WorkResults(LifecycleEffects effects, TimerHandlers timers, ILogger<WorkResults> logger)
{
    public async Task ApplyAsync(LifecycleScope scope, Guid workId, WorkOutcome outcome, string runnerId, string? reason, DsseEnvelope? signedResult = null)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var ct = scope.CancellationToken;
        var item = await WorkStore.LockAsync(scope.Work, workId, ct);
        if (item is null)
        {
            LogUnknown(logger, workId);
            return;
        }

        if (item.Status != WorkStatus.Pending)
        {
            LogLate(logger, workId, item.Status);
            if (signedResult is not null && item.Status is WorkStatus.Superseded or WorkStatus.Abandoned or WorkStatus.TimedOut)
            {
                // A runner's result for an offer that was replaced: evidence of what happened, never a second outcome.
                await scope.Work.EnqueueAsync(new WorkResultSuperseded(item.ProposalId, workId, runnerId, outcome, signedResult,
                    $"work {workId} was {item.Status} before its result arrived", scope.Now), ct);
            }

            return;
        }

        if (outcome == WorkOutcome.TimedOut)
        {
            // Fleet gave up on the package (runner silent, package expired): the same as the deadline passing, now.
            var proposalOfItem = await ProposalStore.LockAsync(scope.Work, item.ProposalId, ct);
            if (proposalOfItem is not null)
            {
                await ProposalStore.DeleteWorkTimerAsync(scope.Work, workId, ct);
                await timers.TimedOutAsync(scope, proposalOfItem, item, $"{WorkStore.StepName(item.Step)} '{item.Name}' (attempt {item.Attempt}): {reason}", null);
            }

            return;
        }

        if (outcome is WorkOutcome.Succeeded or WorkOutcome.Failed && signedResult is not null)
        {
            // A signed result means the runner ran the action, even if its "started" acknowledgement is still on the way.
            await WorkStore.AcknowledgeAsync(scope.Work, workId, started: true, scope.Now, ct);
            await WorkStore.SetResultDigestAsync(scope.Work, workId, ResultDigest(signedResult), ct);
        }

        // Results of sibling checks (two validations) arrive together: with the proposal row locked, the second
        // sees the first's result and exactly one of them concludes "all passed".
        var proposal = await ProposalStore.LockAsync(scope.Work, item.ProposalId, ct);
        var succeeded = outcome == WorkOutcome.Succeeded;
        await WorkStore.CompleteAsync(scope.Work, workId, succeeded ? WorkStatus.Succeeded : WorkStatus.Failed, Trigger.Kebab(outcome.ToString()), runnerId,
            reason, scope.Now, ct);
        await ProposalStore.DeleteWorkTimerAsync(scope.Work, workId, ct);
        if (proposal is null)
        {
            return;
        }

        if (item.Step == WorkStep.Rollback)
        {
            if (ProposalStateMachine.IsTerminal(proposal.State) && !await WorkStore.HasPendingRollbackAsync(scope.Work, proposal.Id, ct))
            {
                await effects.ReleaseLeasesAsync(scope, proposal.Id, proposal.Environment);
            }

            return;
        }

        if (!StepMatches(item.Step, proposal.State))
        {
            return; // the proposal moved on (cancelled, failed by another step): the result is kept, nothing else
        }

        var verdict = $"{WorkStore.StepName(item.Step)} '{item.Name}' {Trigger.Kebab(outcome.ToString())} on {runnerId}" +
            (string.IsNullOrWhiteSpace(reason) ? string.Empty : $": {reason}");
        if (item.Step is WorkStep.Validate or WorkStep.Verify)
        {
            // The gate decides: hold for the others, retry a flaky step, open, or close (CheckGate).
            await effects.ConcludeChecksAsync(scope, proposal, item.Step, verdict, runnerId);
            return;
        }

        await scope.ApplyAsync(proposal, new Trigger(succeeded ? TriggerKind.ExecutionSucceeded : TriggerKind.ExecutionFailed, verdict), runnerId);
    }

    /// <summary>The digest a verdict names for a runner's signed result: sha256 of the DSSE payload bytes the runner signed.</summary>
    public static string ResultDigest(DsseEnvelope signedResult)
    {
        ArgumentNullException.ThrowIfNull(signedResult);
        return CanonicalJson.HashBytes(Convert.FromBase64String(signedResult.Payload));
    }

    /// <summary>Whether a result of this step still matters in this state.</summary>
    public static bool StepMatches(WorkStep step, ProposalState state) => (step, state) switch
    {
        (WorkStep.Validate, ProposalState.Validating) => true,
        (WorkStep.Execute, ProposalState.Executing) => true,
        (WorkStep.Verify, ProposalState.Verifying) => true,
        _ => false,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Result for unknown work {WorkId} ignored")]
    private static partial void LogUnknown(ILogger logger, Guid workId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Result for work {WorkId} ignored: the work is already {Status}")]
    private static partial void LogLate(ILogger logger, Guid workId, string status);
}
