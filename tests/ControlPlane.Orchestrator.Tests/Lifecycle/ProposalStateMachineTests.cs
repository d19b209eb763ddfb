using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Lifecycle;

namespace ControlPlane.Orchestrator.Tests.Lifecycle;

/// <summary>Every (state, trigger) pair: the legal ones land where DESIGN.md says, every other one is refused.</summary>
public sealed class ProposalStateMachineTests
{
    private static readonly ProposalFacts Bare = new(false, false, false);
    private static readonly ProposalFacts Full = new(true, true, true);

    /// <summary>The lifecycle written out independently of the implementation: (state, trigger, retry) → next state.</summary>
    private static readonly Dictionary<(ProposalState, TriggerKind, bool), ProposalState> Legal = new()
    {
        [(ProposalState.Submitted, TriggerKind.ImpactAssessed, false)] = ProposalState.Assessing,
        [(ProposalState.Submitted, TriggerKind.PolicyAllowed, false)] = ProposalState.Authorized,
        [(ProposalState.Submitted, TriggerKind.PolicyRequiresApproval, false)] = ProposalState.AwaitingApproval,
        [(ProposalState.Submitted, TriggerKind.PolicyDenied, false)] = ProposalState.Denied,
        [(ProposalState.Submitted, TriggerKind.Cancel, false)] = ProposalState.Cancelled,
        [(ProposalState.Assessing, TriggerKind.PolicyAllowed, false)] = ProposalState.Authorized,
        [(ProposalState.Assessing, TriggerKind.PolicyRequiresApproval, false)] = ProposalState.AwaitingApproval,
        [(ProposalState.Assessing, TriggerKind.PolicyDenied, false)] = ProposalState.Denied,
        [(ProposalState.Assessing, TriggerKind.Cancel, false)] = ProposalState.Cancelled,
        [(ProposalState.AwaitingApproval, TriggerKind.ApprovalCounted, false)] = ProposalState.AwaitingApproval,
        [(ProposalState.AwaitingApproval, TriggerKind.ApprovalQuorumReached, false)] = ProposalState.Authorized,
        [(ProposalState.AwaitingApproval, TriggerKind.ApprovalRejected, false)] = ProposalState.Rejected,
        [(ProposalState.AwaitingApproval, TriggerKind.ApprovalExpired, false)] = ProposalState.Expired,
        [(ProposalState.AwaitingApproval, TriggerKind.Cancel, false)] = ProposalState.Cancelled,
        [(ProposalState.Authorized, TriggerKind.ValidationStarted, false)] = ProposalState.Validating, // only with validations
        [(ProposalState.Authorized, TriggerKind.Scheduled, false)] = ProposalState.Scheduled, // only without validations
        [(ProposalState.Authorized, TriggerKind.Cancel, false)] = ProposalState.Cancelled,
        [(ProposalState.Validating, TriggerKind.ValidationsPassed, false)] = ProposalState.Scheduled,
        [(ProposalState.Validating, TriggerKind.ValidationFailed, false)] = ProposalState.Failed,
        [(ProposalState.Validating, TriggerKind.TimedOut, true)] = ProposalState.Validating,
        [(ProposalState.Validating, TriggerKind.TimedOut, false)] = ProposalState.Failed,
        [(ProposalState.Validating, TriggerKind.Cancel, false)] = ProposalState.Cancelled,
        [(ProposalState.Validating, TriggerKind.CheckRetried, false)] = ProposalState.Validating,
        [(ProposalState.Scheduled, TriggerKind.LeaseAcquired, false)] = ProposalState.Executing,
        [(ProposalState.Scheduled, TriggerKind.PreflightFailed, false)] = ProposalState.Failed,
        [(ProposalState.Scheduled, TriggerKind.Cancel, false)] = ProposalState.Cancelled,
        [(ProposalState.Executing, TriggerKind.ExecutionSucceeded, false)] = ProposalState.Verifying,
        [(ProposalState.Executing, TriggerKind.ExecutionFailed, false)] = ProposalState.Failed,
        [(ProposalState.Executing, TriggerKind.TimedOut, true)] = ProposalState.Executing,
        [(ProposalState.Executing, TriggerKind.TimedOut, false)] = ProposalState.Failed,
        [(ProposalState.Verifying, TriggerKind.VerificationsPassed, false)] = ProposalState.Completed,
        [(ProposalState.Verifying, TriggerKind.VerificationFailed, false)] = ProposalState.Failed,
        [(ProposalState.Verifying, TriggerKind.TimedOut, true)] = ProposalState.Verifying,
        [(ProposalState.Verifying, TriggerKind.TimedOut, false)] = ProposalState.Failed,
        [(ProposalState.Verifying, TriggerKind.CheckRetried, false)] = ProposalState.Verifying,
    };

    public static TheoryData<ProposalState, TriggerKind, bool, bool> AllPairs()
    {
        var data = new TheoryData<ProposalState, TriggerKind, bool, bool>();
        foreach (var state in Enum.GetValues<ProposalState>())
        {
            foreach (var kind in Enum.GetValues<TriggerKind>())
            {
                foreach (var retry in kind == TriggerKind.TimedOut ? new[] { false, true } : [false])
                {
                    data.Add(state, kind, retry, false);
                    data.Add(state, kind, retry, true);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void Every_state_and_trigger_is_applied_or_refused_as_the_lifecycle_says(ProposalState state, TriggerKind kind, bool retry, bool fullFacts)
    {
        var facts = fullFacts ? Full : Bare;
        var result = ProposalStateMachine.Apply(state, new Trigger(kind, "test", retry), facts);

        var legal = Legal.TryGetValue((state, kind, retry), out var expected)
            && !(state == ProposalState.Authorized && kind == TriggerKind.ValidationStarted && !facts.HasValidations)
            && !(state == ProposalState.Authorized && kind == TriggerKind.Scheduled && facts.HasValidations);
        if (legal)
        {
            Assert.True(result.IsApplied, $"{state} + {kind} should be applied but was refused: {result.Refusal}");
            Assert.Equal(state, result.Applied!.From);
            Assert.Equal(expected, result.Applied.To);
            Assert.Null(result.Refusal);
        }
        else
        {
            Assert.False(result.IsApplied, $"{state} + {kind} (retry {retry}) should be refused but went to {result.Applied?.To}");
            Assert.False(string.IsNullOrWhiteSpace(result.Refusal));
        }
    }

    [Fact]
    public void The_table_covers_every_non_terminal_state_and_terminal_states_accept_nothing()
    {
        var nonTerminal = Enum.GetValues<ProposalState>().Where(s => !ProposalStateMachine.IsTerminal(s)).ToHashSet();
        Assert.Equal(nonTerminal, Legal.Keys.Select(k => k.Item1).ToHashSet());
        Assert.Equal(6, Enum.GetValues<ProposalState>().Count(ProposalStateMachine.IsTerminal));
    }

    [Fact]
    public void An_assessment_is_late_exactly_where_the_policy_can_no_longer_decide()
    {
        TriggerKind[] decisions = [TriggerKind.PolicyAllowed, TriggerKind.PolicyRequiresApproval, TriggerKind.PolicyDenied];
        foreach (var state in Enum.GetValues<ProposalState>())
        {
            var decisionPending = decisions.Any(d => ProposalStateMachine.Apply(state, new Trigger(d, "r"), Bare).IsApplied);
            Assert.Equal(!decisionPending, ProposalStateMachine.IsPastAssessment(state));
        }
    }

    [Fact]
    public void Waiting_for_approval_arms_the_expiry_and_leaving_it_disarms_it()
    {
        var wait = ProposalStateMachine.Apply(ProposalState.Assessing, new Trigger(TriggerKind.PolicyRequiresApproval, "r"), Bare).Applied!;
        var quorum = ProposalStateMachine.Apply(ProposalState.AwaitingApproval, new Trigger(TriggerKind.ApprovalQuorumReached, "q"), Bare).Applied!;
        var counted = ProposalStateMachine.Apply(ProposalState.AwaitingApproval, new Trigger(TriggerKind.ApprovalCounted, "c"), Bare).Applied!;

        Assert.Equal([LifecycleEffect.ScheduleApprovalExpiry], wait.Effects);
        Assert.Contains(LifecycleEffect.CancelApprovalExpiry, quorum.Effects);
        Assert.Empty(counted.Effects);
        Assert.False(counted.Changed);
    }

    [Theory]
    [InlineData(true, TriggerKind.ValidationStarted)]
    [InlineData(false, TriggerKind.Scheduled)]
    public void Authorization_is_followed_by_validation_or_scheduling(bool hasValidations, TriggerKind followUp)
    {
        var facts = new ProposalFacts(hasValidations, false, false);
        var allowed = ProposalStateMachine.Apply(ProposalState.Assessing, new Trigger(TriggerKind.PolicyAllowed, "a"), facts).Applied!;
        var approved = ProposalStateMachine.Apply(ProposalState.AwaitingApproval, new Trigger(TriggerKind.ApprovalQuorumReached, "q"), facts).Applied!;

        Assert.Equal(followUp, allowed.FollowUp);
        Assert.Equal(followUp, approved.FollowUp);
    }

    [Fact]
    public void Each_working_state_asks_for_its_work()
    {
        Assert.Contains(LifecycleEffect.RequestValidations,
            ProposalStateMachine.Apply(ProposalState.Authorized, new Trigger(TriggerKind.ValidationStarted, "v"), Full).Applied!.Effects);
        Assert.Contains(LifecycleEffect.EnqueueForScheduling,
            ProposalStateMachine.Apply(ProposalState.Validating, new Trigger(TriggerKind.ValidationsPassed, "p"), Full).Applied!.Effects);
        Assert.Contains(LifecycleEffect.RequestExecution,
            ProposalStateMachine.Apply(ProposalState.Scheduled, new Trigger(TriggerKind.LeaseAcquired, "l"), Full).Applied!.Effects);
        Assert.Contains(LifecycleEffect.RequestVerifications,
            ProposalStateMachine.Apply(ProposalState.Executing, new Trigger(TriggerKind.ExecutionSucceeded, "s"), Full).Applied!.Effects);
        Assert.Equal([LifecycleEffect.ReofferWork],
            ProposalStateMachine.Apply(ProposalState.Executing, new Trigger(TriggerKind.TimedOut, "t", Retry: true), Full).Applied!.Effects);
    }

    [Fact]
    public void Execution_without_verifications_completes_through_the_follow_up()
    {
        var succeeded = ProposalStateMachine.Apply(ProposalState.Executing, new Trigger(TriggerKind.ExecutionSucceeded, "s"), Bare).Applied!;
        var withChecks = ProposalStateMachine.Apply(ProposalState.Executing, new Trigger(TriggerKind.ExecutionSucceeded, "s"), Full).Applied!;

        Assert.Equal(TriggerKind.VerificationsPassed, succeeded.FollowUp);
        Assert.Null(withChecks.FollowUp);
    }

    [Theory]
    [InlineData(ProposalState.Verifying, TriggerKind.VerificationFailed, true, true)]
    [InlineData(ProposalState.Executing, TriggerKind.ExecutionFailed, true, true)]
    [InlineData(ProposalState.Executing, TriggerKind.TimedOut, true, true)]
    [InlineData(ProposalState.Verifying, TriggerKind.VerificationFailed, false, false)]
    [InlineData(ProposalState.Validating, TriggerKind.ValidationFailed, true, false)]
    [InlineData(ProposalState.Scheduled, TriggerKind.PreflightFailed, true, false)]
    public void A_failure_after_execution_started_rolls_back_when_there_is_a_plan(ProposalState from, TriggerKind kind, bool hasPlan, bool rollback)
    {
        var result = ProposalStateMachine.Apply(from, new Trigger(kind, "f"), new ProposalFacts(true, true, hasPlan)).Applied!;

        Assert.Equal(ProposalState.Failed, result.To);
        Assert.Equal(rollback, result.Effects.Contains(LifecycleEffect.RequestRollback));
        Assert.Contains(LifecycleEffect.ReleaseResources, result.Effects);
    }

    [Fact]
    public void Every_terminal_transition_releases_resources()
    {
        foreach (var state in Enum.GetValues<ProposalState>())
        {
            foreach (var kind in Enum.GetValues<TriggerKind>())
            {
                var applied = ProposalStateMachine.Apply(state, new Trigger(kind, "x"), Full).Applied;
                if (applied is not null && ProposalStateMachine.IsTerminal(applied.To))
                {
                    Assert.Contains(LifecycleEffect.ReleaseResources, applied.Effects);
                }
            }
        }
    }

    [Fact]
    public void A_refusal_names_the_state()
    {
        var refused = ProposalStateMachine.Apply(ProposalState.Completed, new Trigger(TriggerKind.Cancel, "late"), Bare);
        var wrong = ProposalStateMachine.Apply(ProposalState.Submitted, new Trigger(TriggerKind.LeaseAcquired, "early"), Bare);

        Assert.Contains("completed", refused.Refusal, StringComparison.Ordinal);
        Assert.Contains("'lease-acquired' is not allowed while the proposal is submitted", wrong.Refusal, StringComparison.Ordinal);
    }
}
