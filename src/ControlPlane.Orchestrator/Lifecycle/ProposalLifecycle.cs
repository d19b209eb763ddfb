using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Telemetry;
using Npgsql;

namespace ControlPlane.Orchestrator.Lifecycle;

/// <summary>Another writer moved the proposal first; the whole unit of work is retried on fresh state.</summary>
public sealed class ConcurrencyConflictException(Guid proposalId)
    : Exception($"Proposal {proposalId} changed while a transition was being applied.")
{
    public Guid ProposalId { get; } = proposalId;
}

/// <summary>What <see cref="LifecycleScope.ApplyAsync"/> did: the proposal afterwards, or why nothing changed.</summary>
public sealed record ApplyOutcome(ProposalRecord Proposal, IReadOnlyList<Transition> Transitions, string? Refusal)
{
    public bool Applied => Refusal is null;
}

/// <summary>
/// Runs lifecycle work in one PostgreSQL transaction (state, history, outbox, inbox together) and retries the
/// whole unit of work, on fresh state, when optimistic concurrency finds that another writer got there first.
/// </summary>
public sealed partial class ProposalLifecycle(NpgsqlDataSource dataSource, LifecycleEffects effects, TimeProvider clock,
    ILogger<ProposalLifecycle> logger)
{
    public const int MaxAttempts = 5;

    public TimeProvider Clock => clock;

    public async Task<T> RunAsync<T>(Func<LifecycleScope, Task<T>> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        for (var attempt = 1; ; attempt++)
        {
            LifecycleScope scope;
            T result;
            try
            {
                await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
                scope = new LifecycleScope(work, effects, clock, logger, cancellationToken);
                result = await body(scope);
                if (!scope.RolledBack)
                {
                    await work.CommitAsync(cancellationToken);
                }
            }
            catch (ConcurrencyConflictException ex) when (attempt < MaxAttempts)
            {
                LogConflict(logger, ex.ProposalId, attempt);
                await Task.Delay(Random.Shared.Next(5, 25 * attempt), cancellationToken);
                continue;
            }

            if (!scope.RolledBack)
            {
                await scope.RunAfterCommitAsync();
            }

            return result;
        }
    }

    public Task RunAsync(Func<LifecycleScope, Task> body, CancellationToken cancellationToken) =>
        RunAsync(async scope =>
        {
            await body(scope);
            return true;
        }, cancellationToken);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Proposal {ProposalId} changed concurrently; retrying (attempt {Attempt})")]
    private static partial void LogConflict(ILogger logger, Guid proposalId, int attempt);
}

/// <summary>One attempt of a unit of lifecycle work: the open transaction plus the transition machinery.</summary>
public sealed partial class LifecycleScope(UnitOfWork work, LifecycleEffects effects, TimeProvider clock, ILogger logger, CancellationToken cancellationToken)
{
    private readonly List<Func<Task>> _afterCommit = [];

    public UnitOfWork Work { get; } = work;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public DateTimeOffset Now { get; } = clock.GetUtcNow();

    public bool RolledBack { get; private set; }

    /// <summary>Discards everything this attempt wrote (the caller decided to answer without a change).</summary>
    public void Rollback() => RolledBack = true;

    /// <summary>Work that must not run inside the transaction (Redis); runs once the transaction committed.</summary>
    public void AfterCommit(Func<Task> action) => _afterCommit.Add(action);

    /// <summary>
    /// Loads the proposal and holds its row until this unit of work ends. Triggers for one proposal often arrive
    /// together (impact and decision within milliseconds): the second waits here for the first to commit and reads
    /// its result, instead of doing its work, failing the version check and retrying after a pause (a quarter of
    /// proposals did at 20/s). The version check in <see cref="ApplyAsync"/> stays as the guard.
    /// </summary>
    public Task<ProposalRecord?> LoadAsync(Guid id) => ProposalStore.LockAsync(Work, id, CancellationToken);

    /// <summary>
    /// Applies the trigger through the state machine: refused → recorded as ProposalTransitionRefused and nothing
    /// changes; applied → state and version written (conflict → <see cref="ConcurrencyConflictException"/>), history
    /// and ProposalStateChanged for a real change, the effects, then the follow-up trigger if the machine names one.
    /// </summary>
    public async Task<ApplyOutcome> ApplyAsync(ProposalRecord proposal, Trigger trigger, string actor)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        // Whatever resumed the proposal (an approver, the scheduler, a timer), its messages join the proposal's trace.
        using var span = TraceContinuation.Start(OrchestratorTelemetry.Source, $"proposal {trigger.Name}", proposal.TraceParent);
        span?.SetTag("controlplane.proposal.id", proposal.Id);
        var result = ProposalStateMachine.Apply(proposal.State, trigger, proposal.Facts);
        if (result.Applied is not { } transition)
        {
            await RecordRefusalAsync(proposal, trigger.Name, result.Refusal!);
            return new ApplyOutcome(proposal, [], result.Refusal);
        }

        var authorizedNow = transition.Changed && transition.To == ProposalState.Authorized;
        // A conflict surfaces as ConcurrencyConflictException at the unit's next statement or commit.
        ProposalStore.UpdateState(Work, proposal.Id, proposal.Version, transition.To, Now, authorizedNow);

        var after = proposal with
        {
            State = transition.To,
            Version = proposal.Version + 1,
            UpdatedAt = Now,
            AuthorizedAt = authorizedNow ? Now : proposal.AuthorizedAt,
        };
        if (transition.Recorded)
        {
            ProposalStore.AppendHistory(Work, proposal.Id, transition.From, transition.To, trigger.Name, actor, trigger.Reason,
                after.Version, Now);
            await Work.EnqueueAsync(new ProposalStateChanged(proposal.Id, transition.From, transition.To, trigger.Reason, actor, after.Version, Now),
                CancellationToken);
        }

        if (transition.Changed)
        {
            LogTransition(logger, proposal.Id, StateNames.Of(transition.From), StateNames.Of(transition.To), trigger.Name);
            var changed = after; // `after` moves on with a follow-up transition; this one is counted as it was
            AfterCommit(() =>
            {
                OrchestratorTelemetry.Transitioned(changed, transition.From);
                return Task.CompletedTask;
            });
        }

        await effects.ApplyAsync(this, after, transition);
        var transitions = new List<Transition> { transition };
        if (transition.FollowUp is { } next)
        {
            var followed = await ApplyAsync(after, new Trigger(next, FollowUpReason(next)), LifecycleActors.Orchestrator);
            transitions.AddRange(followed.Transitions);
            after = followed.Proposal;
        }

        return new ApplyOutcome(after, transitions, null);
    }

    /// <summary>Records a trigger that was asked for and not applied (wrong state, other content, …).</summary>
    public async Task RecordRefusalAsync(ProposalRecord proposal, string trigger, string reason)
    {
        await Work.EnqueueAsync(new ProposalTransitionRefused(proposal.Id, proposal.State, trigger, reason, Now), CancellationToken);
        LogRefused(logger, proposal.Id, trigger, StateNames.Of(proposal.State), reason);
    }

    internal async Task RunAfterCommitAsync()
    {
        foreach (var action in _afterCommit)
        {
            try
            {
                await action();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Post-commit work is best effort by design (lease release): TTLs and sweeps cover a failure.
                LogAfterCommitFailed(logger, ex);
            }
        }
    }

    private static string FollowUpReason(TriggerKind next) => next switch
    {
        TriggerKind.ValidationStarted => "the decision requires validations before execution",
        TriggerKind.Scheduled => "authorized; waiting for target leases and a slot",
        TriggerKind.VerificationsPassed => "the decision requires no verifications",
        _ => "follow-up",
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Proposal {ProposalId}: {From} -> {To} ({Trigger})")]
    private static partial void LogTransition(ILogger logger, Guid proposalId, string from, string to, string trigger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Proposal {ProposalId}: refused '{Trigger}' in state {State}: {Reason}")]
    private static partial void LogRefused(ILogger logger, Guid proposalId, string trigger, string state, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Post-commit lifecycle work failed")]
    private static partial void LogAfterCommitFailed(ILogger logger, Exception exception);
}

/// <summary>Actor names for transitions the plane causes itself (people and agents appear by principal id).</summary>
public static class LifecycleActors
{
    public const string Orchestrator = "orchestrator";
    public const string Timer = "orchestrator:timer";
    public const string Scheduler = "orchestrator:scheduler";
    public const string SystemGraph = "system-graph";
    public const string Policy = "policy";
}
