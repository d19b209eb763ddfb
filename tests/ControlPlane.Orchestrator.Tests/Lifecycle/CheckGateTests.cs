using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Approvals;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Lifecycle;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.Orchestrator.Tests.Approvals;

namespace ControlPlane.Orchestrator.Tests.Lifecycle;

/// <summary>The gate's pure rules, the reachable-risk rank of the inbox, and the approval's pin of the plan.</summary>
public sealed class CheckGateTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UnixEpoch;

    private static StepRequirement Step(string name, bool advisory = false, int retries = 0) =>
        new(name, "run-command", new Dictionary<string, string> { ["command"] = "run-suite", ["suite"] = name }, retries, advisory);

    private static WorkItem Item(string name, string status, int order, WorkStep step = WorkStep.Validate) => new(
        Guid.NewGuid(), Guid.Empty, step, name, "testing", "run-command", new Dictionary<string, string>(), new Dictionary<string, long>(), 1, status,
        null, "runner-1", status == WorkStatus.Failed ? "exit code 1" : null, T0.AddSeconds(order), T0.AddMinutes(5), null);

    [Fact]
    public void The_gate_holds_while_a_required_step_runs_even_when_the_others_are_done()
    {
        var evaluation = CheckGate.Evaluate([Step("a"), Step("b"), Step("c", advisory: true)], WorkStep.Validate,
            [Item("a", WorkStatus.Succeeded, 0), Item("b", WorkStatus.Pending, 1), Item("c", WorkStatus.Failed, 2)]);

        Assert.Equal(GateState.Holding, evaluation.State);
        Assert.Equal([SuiteResults.Passed, SuiteResults.Running, SuiteResults.AdvisoryFailed], evaluation.Suites.Select(s => s.Result));
        Assert.Empty(evaluation.RetryDue);
    }

    [Fact]
    public void The_gate_opens_when_every_required_step_passed_and_the_advisory_ones_answered_whatever_they_said()
    {
        StepRequirement[] steps = [Step("a"), Step("c", advisory: true), Step("d", advisory: true)];
        var waiting = CheckGate.Evaluate(steps, WorkStep.Validate,
            [Item("a", WorkStatus.Succeeded, 0), Item("c", WorkStatus.Failed, 1), Item("d", WorkStatus.Pending, 2)]);
        var answered = CheckGate.Evaluate(steps, WorkStep.Validate,
            [Item("a", WorkStatus.Succeeded, 0), Item("c", WorkStatus.Failed, 1), Item("d", WorkStatus.TimedOut, 2)]);

        Assert.Equal(GateState.Holding, waiting.State);
        Assert.Equal(GateState.Open, answered.State);
        Assert.Equal([SuiteResults.Passed, SuiteResults.AdvisoryFailed, SuiteResults.AdvisoryFailed], answered.Suites.Select(s => s.Result));
    }

    [Fact]
    public void A_failed_step_with_retries_left_is_due_again_and_passes_as_retried()
    {
        var flaky = Step("flaky", retries: 1);
        var first = CheckGate.Evaluate([flaky], WorkStep.Validate, [Item("flaky", WorkStatus.Failed, 0)]);
        var second = CheckGate.Evaluate([flaky], WorkStep.Validate, [Item("flaky", WorkStatus.Failed, 0), Item("flaky", WorkStatus.Pending, 1)]);
        var third = CheckGate.Evaluate([flaky], WorkStep.Validate, [Item("flaky", WorkStatus.Failed, 0), Item("flaky", WorkStatus.Succeeded, 1)]);
        var spent = CheckGate.Evaluate([flaky], WorkStep.Validate, [Item("flaky", WorkStatus.Failed, 0), Item("flaky", WorkStatus.Failed, 1)]);

        Assert.Equal((GateState.Holding, SuiteResults.Retrying), (first.State, first.Suites[0].Result));
        Assert.Equal([flaky], first.RetryDue);
        Assert.Equal((GateState.Holding, SuiteResults.Retrying), (second.State, second.Suites[0].Result));
        Assert.Empty(second.RetryDue);
        Assert.Equal((GateState.Open, SuiteResults.RetriedThenPassed, 2), (third.State, third.Suites[0].Result, third.Suites[0].Attempts));
        Assert.Equal((GateState.Closed, SuiteResults.Failed), (spent.State, spent.Suites[0].Result));
    }

    [Fact]
    public void Offers_superseded_by_a_timeout_re_offer_are_not_attempts_and_other_steps_do_not_count()
    {
        var evaluation = CheckGate.Evaluate([Step("a")], WorkStep.Validate,
            [Item("a", WorkStatus.Superseded, 0), Item("a", WorkStatus.Succeeded, 1), Item("a", WorkStatus.Failed, 2, WorkStep.Verify)]);

        Assert.Equal((GateState.Open, SuiteResults.Passed, 1), (evaluation.State, evaluation.Suites[0].Result, evaluation.Suites[0].Attempts));
    }

    [Fact]
    public void A_step_listed_twice_runs_once()
    {
        Assert.Equal(["a", "b"], CheckGate.Distinct([Step("a"), Step("b"), Step("a", advisory: true)]).Select(s => s.Name));
    }

    [Fact]
    public void Reachable_regulated_impact_ranks_first_unknown_counts_as_reachable_and_unreachable_last()
    {
        var impact = new ImpactReport(7, ["batch"], [], 2, [], false, false, ["ops"], [], [], T0);
        ImpactedNode Node(string id, bool reachable, string[] classes, int tier = 2) =>
            new(id, 0, [id], tier, "ops", false, classes, false, null, reachable, reachable ? ["edge", id] : null);

        var unreachable = ReachableRisk.Of(impact with { TargetNodes = [Node("batch", false, ["regulated"], 0)] });
        var reachable = ReachableRisk.Of(impact with { TargetNodes = [Node("batch", true, ["public"])] });
        var critical = ReachableRisk.Of(impact with
        {
            TargetNodes = [Node("batch", false, [])],
            Dependents = [Node("ledger", true, ["pci"]) with { Depth = 1 }],
        });
        var unknown = ReachableRisk.Of(impact);

        Assert.Equal((ReachableRisk.Unreachable, true), (unreachable.Rank, unreachable.Known));
        Assert.Empty(unreachable.Nodes);
        Assert.Equal(ReachableRisk.Reachable, reachable.Rank);
        Assert.Equal((ReachableRisk.ReachableCritical, "ledger"), (critical.Rank, Assert.Single(critical.Nodes).NodeId));
        Assert.Equal(["edge", "ledger"], critical.Nodes[0].Path);
        Assert.Equal((ReachableRisk.Reachable, false), (unknown.Rank, unknown.Known));
        Assert.Equal(ReachableRisk.ReachableCritical, ReachableRisk.Of(null).Rank);
        Assert.True(ReachableRisk.Order(critical.Rank) < ReachableRisk.Order(reachable.Rank));
        Assert.True(ReachableRisk.Order(reachable.Rank) < ReachableRisk.Order(unreachable.Rank));
    }

    [Fact]
    public void An_approval_pinned_to_another_plan_is_a_conflict_and_a_plan_change_after_approval_is_drift()
    {
        var plan = new ValidationPlan(7, [new PlannedSuite("billing-api", "testing", "billing", "the API", 30, ["billing is a target"], true, 0)]);
        var proposal = ApprovalRulesTests.Proposal() with { Decision = ApprovalRulesTests.Proposal().Decision! with { Plan = plan } };
        var alice = ApprovalRulesTests.Human("alice", "approver@environment:production");
        var current = ApprovalRules.Current(proposal);

        Assert.Equal(CanonicalJson.Hash(plan), current.PlanHash);
        Assert.Equal(ApprovalVerdict.Ok, ApprovalRules.Check(alice, proposal, [], new ApprovalPins(null, null, null, current.PlanHash)));
        var stale = ApprovalRules.Check(alice, proposal, [], new ApprovalPins(null, null, null, "sha256:another-plan"));
        Assert.Equal(ApprovalVerdictKind.Conflict, stale.Kind);
        Assert.Contains("validation plan", stale.Reason, StringComparison.Ordinal);

        var approval = new ApprovalRecorded(proposal.Id, "alice", "Alice", ApprovalDecision.Approve, null, current.ProposalHash, current.GraphVersion,
            current.PolicyHash, T0, current.PlanHash);
        Assert.Empty(ApprovalRules.Drifted(proposal, [approval]));
        var replanned = proposal with { Decision = proposal.Decision! with { Plan = plan with { GraphVersion = 8 } } };
        Assert.Single(ApprovalRules.Drifted(replanned, [approval]));
    }

    [Fact]
    public void A_retry_stays_in_its_state_is_recorded_and_asks_for_the_retry()
    {
        var validating = ProposalStateMachine.Apply(ProposalState.Validating, new Trigger(TriggerKind.CheckRetried, "flaky"), new ProposalFacts(true, true, false)).Applied!;
        var verifying = ProposalStateMachine.Apply(ProposalState.Verifying, new Trigger(TriggerKind.CheckRetried, "flaky"), new ProposalFacts(true, true, false)).Applied!;
        var scheduled = ProposalStateMachine.Apply(ProposalState.Scheduled, new Trigger(TriggerKind.CheckRetried, "flaky"), new ProposalFacts(true, true, false));

        Assert.Equal((ProposalState.Validating, true, false), (validating.To, validating.Recorded, validating.Changed));
        Assert.Equal([LifecycleEffect.RetryChecks], validating.Effects);
        Assert.Equal(ProposalState.Verifying, verifying.To);
        Assert.False(scheduled.IsApplied);
    }
}
