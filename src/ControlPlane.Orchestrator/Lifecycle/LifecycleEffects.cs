using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.Orchestrator.Scheduling;
using Microsoft.Extensions.Options;

namespace ControlPlane.Orchestrator.Lifecycle;

/// <summary>Timer kinds in the timers table.</summary>
public static class TimerKinds
{
    public const string ApprovalExpiry = "approval-expiry";
    public const string WorkDeadline = "work-deadline";
    public const string WorkAccept = "work-accept";
}

/// <summary>
/// Turns the effects a transition asks for into rows and outbox messages inside the transition's transaction
/// (work requests, timers, lease bookkeeping); Redis calls that release leases run after the commit.
/// </summary>
public sealed partial class LifecycleEffects(IOptions<OrchestratorOptions> options, ActionCatalog catalog, TargetLeases leases,
    SchedulerSignal signal, ILogger<LifecycleEffects> logger)
{
    public const string ExecuteName = "execute";
    public const string RollbackName = "rollback";

    public async Task ApplyAsync(LifecycleScope scope, ProposalRecord proposal, Transition transition)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(proposal);
        ArgumentNullException.ThrowIfNull(transition);
        var ct = scope.CancellationToken;
        var rollbackIssued = false;
        foreach (var effect in transition.Effects)
        {
            switch (effect)
            {
                case LifecycleEffect.ScheduleApprovalExpiry:
                    var expiresAfter = proposal.Decision?.Approval?.ExpiresAfter is { } after && after > TimeSpan.Zero
                        ? after
                        : options.Value.Approvals.DefaultExpiresAfter;
                    ProposalStore.AddTimer(scope.Work, proposal.Id, TimerKinds.ApprovalExpiry, scope.Now + expiresAfter, null);
                    break;
                case LifecycleEffect.CancelApprovalExpiry:
                    await ProposalStore.DeleteTimersAsync(scope.Work, proposal.Id, TimerKinds.ApprovalExpiry, ct);
                    break;
                case LifecycleEffect.RequestValidations:
                    await RequestChecksAsync(scope, proposal, WorkStep.Validate, proposal.Decision?.Validations);
                    break;
                case LifecycleEffect.EnqueueForScheduling:
                    scope.AfterCommit(() =>
                    {
                        signal.Poke();
                        return Task.CompletedTask;
                    });
                    break;
                case LifecycleEffect.RequestExecution:
                    if (!catalog.TryExecution(proposal, out var execution, out var error))
                    {
                        // The scheduler checked the mapping before taking leases; configuration cannot change in between.
                        throw new InvalidOperationException(error);
                    }

                    await RequestAsync(scope, proposal, WorkStep.Execute, ExecuteName, execution!, await WorkStore.HeldTokensAsync(scope.Work, proposal.Id, ct), 1);
                    break;
                case LifecycleEffect.ReofferWork:
                    await ReofferAsync(scope, proposal);
                    break;
                case LifecycleEffect.RequestVerifications:
                    await RequestChecksAsync(scope, proposal, WorkStep.Verify, proposal.Decision?.Verifications);
                    break;
                case LifecycleEffect.RetryChecks:
                    await RetryChecksAsync(scope, proposal, transition.To == ProposalState.Verifying ? WorkStep.Verify : WorkStep.Validate);
                    break;
                case LifecycleEffect.RequestRollback:
                    if (!await WorkStore.ExecutionStartedAsync(scope.Work, proposal.Id, ct))
                    {
                        // Nothing ran (refused, never accepted, no runner): there is nothing to undo.
                        LogNoRollback(logger, proposal.Id);
                    }
                    else if (catalog.TryRollback(proposal, out var rollback, out var rollbackError))
                    {
                        await RequestAsync(scope, proposal, WorkStep.Rollback, RollbackName, rollback!, await WorkStore.HeldTokensAsync(scope.Work, proposal.Id, ct), 1);
                        rollbackIssued = true;
                    }
                    else
                    {
                        LogRollbackUnmapped(logger, proposal.Id, rollbackError!);
                    }

                    break;
                case LifecycleEffect.ReleaseResources:
                    await ProposalStore.DeleteTimersExceptRollbackAsync(scope.Work, proposal.Id, ct);
                    foreach (var abandoned in await WorkStore.AbandonPendingAsync(scope.Work, proposal.Id, scope.Now, ct))
                    {
                        await WithdrawAsync(scope, proposal.Id, abandoned, $"proposal {ProposalStateMachine.Name(transition.To)}");
                    }

                    if (!rollbackIssued)
                    {
                        // With a rollback under way the targets stay leased until it reports (or times out).
                        await ReleaseLeasesAsync(scope, proposal.Id, proposal.Environment);
                    }

                    break;
            }
        }
    }

    /// <summary>Marks the proposal's leases released and frees them (and its slot) in Redis once committed.</summary>
    public async Task ReleaseLeasesAsync(LifecycleScope scope, Guid proposalId, string environment)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var targets = await WorkStore.MarkReleasedAsync(scope.Work, proposalId, scope.Now, scope.CancellationToken);
        if (targets.Count == 0)
        {
            return;
        }

        scope.AfterCommit(async () =>
        {
            // If Redis is down the leases lapse with their TTL instead; the scheduler waits meanwhile anyway.
            await leases.ReleaseAsync(proposalId, environment, targets);
            signal.Poke();
        });
    }

    /// <summary>Offers timed-out work once more: a new work id, the next attempt, the tokens the proposal holds now.</summary>
    private async Task ReofferAsync(LifecycleScope scope, ProposalRecord proposal)
    {
        var ct = scope.CancellationToken;
        IReadOnlyList<WorkItem> items;
        await using (var command = await scope.Work.CommandAsync(string.Empty))
        {
            items = await WorkStore.ForProposalAsync(command, proposal.Id, ct);
        }

        foreach (var item in items.Where(i => i.Status == WorkStatus.TimedOut))
        {
            var tokens = item.Step == WorkStep.Execute ? await WorkStore.HeldTokensAsync(scope.Work, proposal.Id, ct) : item.FencingTokens;
            await RequestAsync(scope, proposal, item.Step, item.Name, new RenderedStep(item.ActionKind, item.Fleet, item.Parameters), tokens, item.Attempt + 1);
            await WorkStore.CompleteAsync(scope.Work, item.WorkId, WorkStatus.Superseded, Trigger.Kebab(WorkOutcome.TimedOut.ToString()), null,
                item.Reason ?? "re-offered after its deadline", item.CompletedAt ?? scope.Now, ct);
            await WithdrawAsync(scope, proposal.Id, item.WorkId, "superseded by a re-offer: " + (item.Reason ?? "no result by its deadline"));
        }
    }

    /// <summary>Tells fleet to stop offering the work: a runner still holding its package can no longer have it confirmed.</summary>
    private static Task WithdrawAsync(LifecycleScope scope, Guid proposalId, Guid workId, string reason) =>
        scope.Work.EnqueueAsync(new WorkWithdrawn(proposalId, workId, reason, scope.Now), scope.CancellationToken);

    /// <summary>
    /// One piece of work per validation or verification the decision names (once per name), all requested in the same
    /// transaction so fleet runs them side by side; checks hold no leases.
    /// </summary>
    private async Task RequestChecksAsync(LifecycleScope scope, ProposalRecord proposal, WorkStep step, IReadOnlyList<StepRequirement>? checks)
    {
        foreach (var check in CheckGate.Distinct(checks))
        {
            await RequestAsync(scope, proposal, step, check.Name, catalog.Check(check, step), Empty, 1);
        }
    }

    private async Task RequestAsync(LifecycleScope scope, ProposalRecord proposal, WorkStep step, string name, RenderedStep rendered,
        IReadOnlyDictionary<string, long> tokens, int attempt)
    {
        var work = options.Value.Work;
        var item = new WorkItem(Guid.CreateVersion7(scope.Now), proposal.Id, step, name, rendered.Fleet, rendered.ActionKind, rendered.Parameters, tokens,
            attempt, WorkStatus.Pending, null, null, null, scope.Now, scope.Now + work.Timeout + work.Grace, null);
        await WorkStore.InsertAsync(scope.Work, item, scope.CancellationToken);
        ProposalStore.AddTimer(scope.Work, proposal.Id, TimerKinds.WorkDeadline, item.DeadlineAt, item.WorkId);
        ProposalStore.AddTimer(scope.Work, proposal.Id, TimerKinds.WorkAccept, scope.Now + work.AcceptTimeout, item.WorkId);
        await scope.Work.EnqueueAsync(new WorkRequested(proposal.Id, item.WorkId, step, name, rendered.Fleet, rendered.ActionKind, rendered.Parameters,
            proposal.Targets, proposal.Environment, proposal.ContentHash, tokens, work.Timeout, scope.Now), scope.CancellationToken);
        LogRequested(logger, proposal.Id, WorkStore.StepName(step), name, rendered.Fleet, attempt);
    }

    private static readonly IReadOnlyDictionary<string, long> Empty = new Dictionary<string, long>();

    [LoggerMessage(Level = LogLevel.Information, Message = "Proposal {ProposalId}: requested {Step} '{Name}' from fleet {Fleet} (attempt {Attempt})")]
    private static partial void LogRequested(ILogger logger, Guid proposalId, string step, string name, string fleet, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Proposal {ProposalId} failed before any runner signed that execution started: no rollback")]
    private static partial void LogNoRollback(ILogger logger, Guid proposalId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Proposal {ProposalId} failed after execution started but no rollback could be issued: {Reason}")]
    private static partial void LogRollbackUnmapped(ILogger logger, Guid proposalId, string reason);
}
