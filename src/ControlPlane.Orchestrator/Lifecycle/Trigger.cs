using ControlPlane.Contracts;

namespace ControlPlane.Orchestrator.Lifecycle;

/// <summary>What can happen to a proposal. Each kind is one row family of the transition table.</summary>
public enum TriggerKind
{
    ImpactAssessed,
    PolicyAllowed,
    PolicyRequiresApproval,
    PolicyDenied,
    ApprovalCounted,
    ApprovalQuorumReached,
    ApprovalRejected,
    ApprovalExpired,
    Cancel,
    ValidationStarted,
    ValidationsPassed,
    ValidationFailed,
    Scheduled,
    PreflightFailed,
    LeaseAcquired,
    ExecutionSucceeded,
    ExecutionFailed,
    VerificationsPassed,
    VerificationFailed,
    TimedOut,
    CheckRetried,
}

/// <summary>
/// A trigger with the reason that goes into the history. <see cref="Retry"/> only matters for
/// <see cref="TriggerKind.TimedOut"/>: true when the work may be offered once more, false when it is spent.
/// </summary>
public sealed record Trigger(TriggerKind Kind, string Reason, bool Retry = false)
{
    public static Trigger PolicyDecided(DecisionOutcome outcome, string reason) => new(
        outcome switch
        {
            DecisionOutcome.Allow => TriggerKind.PolicyAllowed,
            DecisionOutcome.RequireApproval => TriggerKind.PolicyRequiresApproval,
            _ => TriggerKind.PolicyDenied,
        },
        reason);

    /// <summary>The trigger's name on the wire (ProposalTransitionRefused.Trigger), kebab-case like the states.</summary>
    public string Name => Kind switch
    {
        TriggerKind.TimedOut when Retry => "timed-out-retrying",
        _ => Kebab(Kind.ToString()),
    };

    internal static string Kebab(string pascal) => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(pascal);
}

/// <summary>Facts of a proposal the lifecycle branches on; everything else it needs is the state itself.</summary>
public readonly record struct ProposalFacts(bool HasValidations, bool HasVerifications, bool HasRollbackPlan);

/// <summary>Side effects a transition asks for; the application layer turns them into rows and messages.</summary>
public enum LifecycleEffect
{
    ScheduleApprovalExpiry,
    CancelApprovalExpiry,
    RequestValidations,
    EnqueueForScheduling,
    RequestExecution,
    ReofferWork,
    RequestVerifications,
    RequestRollback,
    ReleaseResources,
    RetryChecks,
}
