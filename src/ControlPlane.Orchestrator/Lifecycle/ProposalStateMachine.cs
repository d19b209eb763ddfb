using ControlPlane.Contracts;

namespace ControlPlane.Orchestrator.Lifecycle;

/// <summary>An applied transition: where it went, what it asks for, and the trigger the orchestrator fires next at once.</summary>
public sealed record Transition(ProposalState From, ProposalState To, Trigger Trigger, IReadOnlyList<LifecycleEffect> Effects, TriggerKind? FollowUp)
{
    public bool Changed => From != To;

    /// <summary>Whether the history records it: every change, and a check's retry (the state stays, but a reader must see it).</summary>
    public bool Recorded => Changed || Trigger.Kind == TriggerKind.CheckRetried;
}

/// <summary>The result of asking the lifecycle for a transition: applied, or refused with the reason.</summary>
public readonly record struct TransitionResult(Transition? Applied, string? Refusal)
{
    public bool IsApplied => Applied is not null;
}

/// <summary>
/// The governed-action lifecycle of DESIGN.md as a pure function (state, trigger, facts) → transition or refusal.
/// No I/O: the caller persists the new state with optimistic concurrency and performs the effects.
/// </summary>
public static class ProposalStateMachine
{
    private static readonly LifecycleEffect[] None = [];

    public static bool IsTerminal(ProposalState state) => state is ProposalState.Completed or ProposalState.Denied
        or ProposalState.Rejected or ProposalState.Expired or ProposalState.Failed or ProposalState.Cancelled;

    /// <summary>
    /// States an assessment can no longer move: the policy's decision (or a cancel) came first. The decision may
    /// overtake the ImpactAssessed copy on the way to orchestrator, so an assessment arriving then is late, not wrong.
    /// </summary>
    public static bool IsPastAssessment(ProposalState state) => state is not (ProposalState.Submitted or ProposalState.Assessing);

    /// <summary>States a proposal may be cancelled in: anything not terminal that has not started executing.</summary>
    public static bool IsCancellable(ProposalState state) => state is ProposalState.Submitted or ProposalState.Assessing
        or ProposalState.AwaitingApproval or ProposalState.Authorized or ProposalState.Validating or ProposalState.Scheduled;

    public static TransitionResult Apply(ProposalState state, Trigger trigger, ProposalFacts facts)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        if (IsTerminal(state))
        {
            return Refuse($"the proposal is {Name(state)}, a final state");
        }

        ProposalState? to = (state, trigger.Kind) switch
        {
            (ProposalState.Submitted, TriggerKind.ImpactAssessed) => ProposalState.Assessing,
            // A decision implies an assessment; it may overtake the ImpactAssessed copy on the way here.
            (ProposalState.Submitted or ProposalState.Assessing, TriggerKind.PolicyAllowed) => ProposalState.Authorized,
            (ProposalState.Submitted or ProposalState.Assessing, TriggerKind.PolicyRequiresApproval) => ProposalState.AwaitingApproval,
            (ProposalState.Submitted or ProposalState.Assessing, TriggerKind.PolicyDenied) => ProposalState.Denied,
            (ProposalState.AwaitingApproval, TriggerKind.ApprovalCounted) => ProposalState.AwaitingApproval,
            (ProposalState.AwaitingApproval, TriggerKind.ApprovalQuorumReached) => ProposalState.Authorized,
            (ProposalState.AwaitingApproval, TriggerKind.ApprovalRejected) => ProposalState.Rejected,
            (ProposalState.AwaitingApproval, TriggerKind.ApprovalExpired) => ProposalState.Expired,
            (ProposalState.Authorized, TriggerKind.ValidationStarted) when facts.HasValidations => ProposalState.Validating,
            (ProposalState.Authorized, TriggerKind.Scheduled) when !facts.HasValidations => ProposalState.Scheduled,
            (ProposalState.Validating, TriggerKind.ValidationsPassed) => ProposalState.Scheduled,
            (ProposalState.Validating, TriggerKind.ValidationFailed) => ProposalState.Failed,
            (ProposalState.Scheduled, TriggerKind.LeaseAcquired) => ProposalState.Executing,
            (ProposalState.Scheduled, TriggerKind.PreflightFailed) => ProposalState.Failed,
            (ProposalState.Executing, TriggerKind.ExecutionSucceeded) => ProposalState.Verifying,
            (ProposalState.Executing, TriggerKind.ExecutionFailed) => ProposalState.Failed,
            (ProposalState.Verifying, TriggerKind.VerificationsPassed) => ProposalState.Completed,
            (ProposalState.Verifying, TriggerKind.VerificationFailed) => ProposalState.Failed,
            (ProposalState.Validating or ProposalState.Verifying, TriggerKind.CheckRetried) => state,
            (ProposalState.Validating or ProposalState.Executing or ProposalState.Verifying, TriggerKind.TimedOut) =>
                trigger.Retry ? state : ProposalState.Failed,
            (_, TriggerKind.Cancel) when IsCancellable(state) => ProposalState.Cancelled,
            _ => null,
        };

        if (to is not { } next)
        {
            return Refuse(RefusalReason(state, trigger.Kind, facts));
        }

        var effects = Effects(state, next, trigger, facts);
        TriggerKind? followUp = next switch
        {
            _ when next == state => null,
            ProposalState.Authorized => facts.HasValidations ? TriggerKind.ValidationStarted : TriggerKind.Scheduled,
            ProposalState.Verifying when !facts.HasVerifications => TriggerKind.VerificationsPassed,
            _ => null,
        };
        return new TransitionResult(new Transition(state, next, trigger, effects, followUp), null);
    }

    private static LifecycleEffect[] Effects(ProposalState from, ProposalState to, Trigger trigger, ProposalFacts facts)
    {
        if (from == to)
        {
            return trigger.Kind switch
            {
                TriggerKind.TimedOut => [LifecycleEffect.ReofferWork],
                TriggerKind.CheckRetried => [LifecycleEffect.RetryChecks],
                _ => None,
            };
        }

        var effects = new List<LifecycleEffect>(3);
        if (from == ProposalState.AwaitingApproval)
        {
            effects.Add(LifecycleEffect.CancelApprovalExpiry);
        }

        switch (to)
        {
            case ProposalState.AwaitingApproval:
                effects.Add(LifecycleEffect.ScheduleApprovalExpiry);
                break;
            case ProposalState.Validating:
                effects.Add(LifecycleEffect.RequestValidations);
                break;
            case ProposalState.Scheduled:
                effects.Add(LifecycleEffect.EnqueueForScheduling);
                break;
            case ProposalState.Executing:
                effects.Add(LifecycleEffect.RequestExecution);
                break;
            case ProposalState.Verifying:
                effects.Add(LifecycleEffect.RequestVerifications);
                break;
        }

        if (IsTerminal(to))
        {
            // Once execution started the change may be (partly) applied: undo it when the agent said how.
            if (to == ProposalState.Failed && from is (ProposalState.Executing or ProposalState.Verifying) && facts.HasRollbackPlan)
            {
                effects.Add(LifecycleEffect.RequestRollback);
            }

            effects.Add(LifecycleEffect.ReleaseResources);
        }

        return [.. effects];
    }

    private static string RefusalReason(ProposalState state, TriggerKind kind, ProposalFacts facts) => (state, kind) switch
    {
        (ProposalState.Authorized, TriggerKind.ValidationStarted) when !facts.HasValidations => "the decision requires no validations",
        (ProposalState.Authorized, TriggerKind.Scheduled) when facts.HasValidations => "the decision requires validations before scheduling",
        (_, TriggerKind.Cancel) => $"a proposal that is {Name(state)} can no longer be cancelled",
        _ => $"'{Trigger.Kebab(kind.ToString())}' is not allowed while the proposal is {Name(state)}",
    };

    private static TransitionResult Refuse(string reason) => new(null, reason);

    public static string Name(ProposalState state) => Trigger.Kebab(state.ToString());
}
