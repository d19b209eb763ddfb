using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.Orchestrator.Scheduling;
using ControlPlane.Orchestrator.Tests.Infrastructure;
using ControlPlane.Testing;

namespace ControlPlane.Orchestrator.Tests.Integration;

public sealed class GatePlane(IdentityFixture identity) : PlaneFixture(identity, "orch-gate")
{
    // Production is frozen: approved proposals rest in "scheduled" (the approval and inbox tests); dev runs through.
    protected override void Configure(PlaneSettings settings) => settings
        .Set("Orchestrator:Scheduling:Interval", "00:00:00.200");

    protected override IReadOnlyList<ChangeWindowRequest> Windows => [AlwaysDeny("tests of the inbox and approvals", "production")];
}

/// <summary>
/// The gate over a change-aware validation plan, on the real bus and database: each planned suite is its own work
/// package, all requested at once; the gate holds until the last required suite passed, ignores advisory failures,
/// retries a flaky suite visibly, closes on a required failure and records its verdict. Also the inbox order by
/// reachable risk and the approval's pin of the plan.
/// </summary>
public sealed class ValidationGateTests(GatePlane fixture) : IClassFixture<GatePlane>
{
    private readonly OrchestratorPlane _plane = fixture.Plane;

    private static string Key() => "gate-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A planned suite as policy maps it onto a step (ControlPlane.Policy.Validation.PlanSteps.ToStep).</summary>
    private static StepRequirement Suite(string name, string node, bool advisory = false, int retries = 0) => new(name, "run-command",
        new Dictionary<string, string> { ["command"] = "run-suite", ["suite"] = name, ["node"] = node, ["fleet"] = "testing" }, retries, advisory);

    private static PlannedSuite Planned(StepRequirement step) => new(step.Name, "testing", step.Parameters["node"], "the API", 30,
        [$"{step.Parameters["node"]} is a target"], !step.Advisory, step.Retries);

    private static PolicyDecision AllowWithPlan(params StepRequirement[] steps) => OrchestratorPlane.Allow(steps) with
    {
        Plan = new ValidationPlan(7, [.. steps.Select(Planned)]),
    };

    [Fact]
    public async Task The_gate_holds_while_a_required_suite_runs_and_opens_after_the_last_one_passes()
    {
        var slow = Suite("ledger-contract", "ledger");
        var fast = Suite("billing-api", "billing");
        var advisory = Suite("reports-smoke", "reports", advisory: true);
        var held = new ConcurrentQueue<WorkRequested>();
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "dev"));
        _plane.Fleet.Behave(id, w => w.Name switch
        {
            "ledger-contract" => Hold(held, w),
            "reports-smoke" => FleetAnswer.Fail,
            _ => FleetAnswer.Succeed,
        });
        await _plane.AssessAsync(id);
        await _plane.DecideAsync(id, AllowWithPlan(slow, fast, advisory));

        // All three suites were requested together, each as its own work package with its own parameters.
        var requested = await Eventually.UntilAsync(() => Task.FromResult(_plane.WorkFor(id)), w => w.Count >= 3, TimeSpan.FromSeconds(20), "three suites requested");
        Assert.Equal(["billing-api", "ledger-contract", "reports-smoke"], requested.Select(w => w.Parameters["suite"]).Order(StringComparer.Ordinal));
        Assert.All(requested, w => Assert.Equal((WorkStep.Validate, "testing", "run-suite"), (w.Step, w.Fleet, w.Parameters["command"])));

        // The fast suite passed and the advisory one failed: the gate still holds for the running ledger suite.
        var holding = await Eventually.UntilAsync(() => _plane.GetAsync(id),
            p => p.Gates is [{ Suites: var s }, ..] && s.Count(x => x.Result is SuiteResults.Passed or SuiteResults.AdvisoryFailed) == 2,
            TimeSpan.FromSeconds(20), "the fast and the advisory suite reported");
        Assert.Equal(ProposalState.Validating, holding.State);
        Assert.Equal("holding", holding.Gates![0].State);
        Assert.Equal(SuiteResults.Running, holding.Gates[0].Suites.Single(s => s.Name == "ledger-contract").Result);
        Assert.DoesNotContain(_plane.Bus.Seen<ValidationVerdict>(), v => v.ProposalId == id);

        Assert.True(held.TryDequeue(out var ledger));
        await _plane.Bus.CompleteAsync(ledger, WorkOutcome.Succeeded);
        var done = await _plane.WaitForStateAsync(id, ProposalState.Completed);

        var verdict = await _plane.Bus.WaitForAsync<ValidationVerdict>(v => v.ProposalId == id, "the validation verdict");
        Assert.True(verdict.Passed);
        Assert.Equal(WorkStep.Validate, verdict.Step);
        Assert.Equal(CanonicalJson.Hash(done.Decision!.Plan!), verdict.PlanHash);
        Assert.Equal(
            [("billing-api", SuiteResults.Passed), ("ledger-contract", SuiteResults.Passed), ("reports-smoke", SuiteResults.AdvisoryFailed)],
            verdict.Suites.Select(s => (s.Name, s.Result)).Order());
        Assert.All(verdict.Suites, s => Assert.StartsWith("sha256:", s.ResultDigest, StringComparison.Ordinal));
        Assert.Equal("open", done.Gates![0].State);
        Assert.Contains(done.History, h => h.To == ProposalState.Scheduled && h.Reason.Contains("gate open", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_advisory_failure_is_reported_and_does_not_hold_the_gate()
    {
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "dev"));
        _plane.Fleet.Behave(id, w => w.Name == "reports-smoke" ? FleetAnswer.Fail : FleetAnswer.Succeed);
        await _plane.AssessAsync(id);
        await _plane.DecideAsync(id, AllowWithPlan(Suite("billing-api", "billing"), Suite("reports-smoke", "reports", advisory: true)));

        var done = await _plane.WaitForStateAsync(id, ProposalState.Completed);

        Assert.Contains(done.Work, w => w.Step == WorkStep.Execute && w.Status == WorkStatus.Succeeded);
        var advisory = done.Gates![0].Suites.Single(s => s.Name == "reports-smoke");
        Assert.Equal((SuiteResults.AdvisoryFailed, true, "exit code 1"), (advisory.Result, advisory.Advisory, advisory.Reason));
    }

    [Fact]
    public async Task A_flaky_suite_passes_on_its_retry_and_the_retry_is_visible()
    {
        var attempts = 0;
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "dev"));
        _plane.Fleet.Behave(id, w => w.Name == "ledger-contract" && Interlocked.Increment(ref attempts) == 1 ? FleetAnswer.Fail : FleetAnswer.Succeed);
        await _plane.AssessAsync(id);
        await _plane.DecideAsync(id, AllowWithPlan(Suite("billing-api", "billing"), Suite("ledger-contract", "ledger", retries: 1)));

        var done = await _plane.WaitForStateAsync(id, ProposalState.Completed);

        var retried = Assert.Single(done.History, h => h.Trigger == "check-retried");
        Assert.Equal((ProposalState.Validating, ProposalState.Validating), (retried.From, retried.To));
        Assert.Contains("validate 'ledger-contract' failed on test-runner: exit code 1; running again: 'ledger-contract' (retry 1 of 1)", retried.Reason,
            StringComparison.Ordinal);
        Assert.Contains(_plane.Bus.Seen<ProposalStateChanged>(), c => c.ProposalId == id && c.Reason == retried.Reason);
        Assert.Equal(2, _plane.WorkFor(id).Count(w => w.Name == "ledger-contract"));
        var suite = done.Gates![0].Suites.Single(s => s.Name == "ledger-contract");
        Assert.Equal((SuiteResults.RetriedThenPassed, 2), (suite.Result, suite.Attempts));
        var verdict = await _plane.Bus.WaitForAsync<ValidationVerdict>(v => v.ProposalId == id && v.Step == WorkStep.Validate, "the verdict");
        Assert.Equal(SuiteResults.RetriedThenPassed, verdict.Suites.Single(s => s.Name == "ledger-contract").Result);
    }

    [Fact]
    public async Task A_required_suite_that_fails_after_its_retries_fails_the_change()
    {
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "dev"));
        _plane.Fleet.Behave(id, w => w.Name == "ledger-contract" ? FleetAnswer.Fail : FleetAnswer.Succeed);
        await _plane.AssessAsync(id);
        await _plane.DecideAsync(id, AllowWithPlan(Suite("billing-api", "billing"), Suite("ledger-contract", "ledger", retries: 1)));

        var failed = await _plane.WaitForStateAsync(id, ProposalState.Failed);

        Assert.Equal("validation-failed", failed.History[^1].Trigger);
        Assert.Equal("validate 'ledger-contract' failed on test-runner: exit code 1", failed.History[^1].Reason);
        Assert.DoesNotContain(_plane.WorkFor(id), w => w.Step == WorkStep.Execute);
        var verdict = await _plane.Bus.WaitForAsync<ValidationVerdict>(v => v.ProposalId == id, "the closing verdict");
        Assert.False(verdict.Passed);
        var suite = verdict.Suites.Single(s => s.Name == "ledger-contract");
        Assert.Equal((SuiteResults.Failed, 2, 1), (suite.Result, suite.Attempts, suite.Retries));
    }

    [Fact]
    public async Task Verification_after_execution_runs_through_the_same_gate()
    {
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "dev"));
        _plane.Fleet.Behave(id, w => w.Step == WorkStep.Verify && w.Name == "leak-resolved" ? FleetAnswer.Fail : FleetAnswer.Succeed);
        await _plane.AssessAsync(id);
        await _plane.DecideAsync(id, OrchestratorPlane.Allow([Suite("billing-api", "billing")], [Suite("leak-resolved", "billing")]));

        var failed = await _plane.WaitForStateAsync(id, ProposalState.Failed);

        Assert.Equal("verification-failed", failed.History[^1].Trigger);
        var verdict = await _plane.Bus.WaitForAsync<ValidationVerdict>(v => v.ProposalId == id && v.Step == WorkStep.Verify, "the verification verdict");
        Assert.False(verdict.Passed);
        Assert.Null(verdict.PlanHash);
        Assert.Equal(["open", "closed"], failed.Gates!.Select(g => g.State));
    }

    [Fact]
    public async Task The_inbox_lists_reachable_critical_impact_first_then_reachable_then_unreachable()
    {
        // Submitted oldest to newest; without the rank the inbox would show them newest first.
        var critical = await AwaitingAsync(Impact(reachable: true, dataClasses: ["regulated"]));
        var reachable = await AwaitingAsync(Impact(reachable: true));
        var unreachable = await AwaitingAsync(Impact(reachable: false, dataClasses: ["regulated"]));
        var unknown = await AwaitingAsync(OrchestratorPlane.Impact(["billing"]));

        using var vera = await _plane.HumanAsync(IdentityFixture.Vera);
        var inbox = (await vera.GetFromJsonAsync<List<ProposalSummary>>("proposals?state=awaiting-approval&limit=200", ContractJson.Options))!;
        var mine = inbox.Where(p => p.Id == critical || p.Id == reachable || p.Id == unreachable || p.Id == unknown).ToList();

        Assert.Equal([critical, unknown, reachable, unreachable], mine.Select(p => p.Id));
        Assert.Equal(["reachable-critical", "reachable", "reachable", "unreachable"], mine.Select(p => p.Reachability));
        Assert.Equal(["billing"], mine[0].ReachableNodes);
        Assert.Empty(mine[3].ReachableNodes);
        var ranks = inbox.Select(p => ReachableRisk.Order(p.Reachability)).ToList();
        Assert.Equal(ranks.Order(), ranks);

        var view = await _plane.GetAsync(critical);
        Assert.Equal(["edge-gateway", "billing"], Assert.Single(view.Reachability!.Nodes).Path);
    }

    [Fact]
    public async Task An_approval_pins_the_plan_digest_and_one_made_against_another_plan_does_not_count()
    {
        var decision = OrchestratorPlane.RequireApproval() with
        {
            Validations = [Suite("billing-api", "billing")],
            Plan = new ValidationPlan(7, [Planned(Suite("billing-api", "billing"))]),
        };
        var id = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), "production"), decision);
        var waiting = await _plane.WaitForStateAsync(id, ProposalState.AwaitingApproval);
        var otherPlan = CanonicalJson.Hash(decision.Plan! with { Suites = [Planned(Suite("ledger-contract", "ledger"))] });
        Assert.Equal(CanonicalJson.Hash(decision.Plan!), waiting.PlanHash);

        using var alice = await _plane.HumanAsync(IdentityFixture.Alice);
        using (var stale = await alice.PostAsJsonAsync($"proposals/{id}/approvals", new { decision = "approve", planHash = otherPlan }))
        {
            Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
            Assert.Contains("validation plan", await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(ProposalState.AwaitingApproval, (await _plane.GetAsync(id)).State);
        using (var current = await alice.PostAsJsonAsync($"proposals/{id}/approvals", new { decision = "approve", planHash = waiting.PlanHash }))
        {
            Assert.Equal(HttpStatusCode.OK, current.StatusCode);
        }

        var recorded = await _plane.Bus.WaitForAsync<ApprovalRecorded>(a => a.ProposalId == id, "the approval");
        Assert.Equal(waiting.PlanHash, recorded.PlanHash);
        Assert.Equal(waiting.PlanHash, Assert.Single((await _plane.GetAsync(id)).Approvals).PlanHash);
    }

    private async Task<Guid> AwaitingAsync(ImpactReport impact)
    {
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "production"));
        await _plane.AssessAsync(id, impact);
        await _plane.DecideAsync(id, OrchestratorPlane.RequireApproval());
        await _plane.WaitForStateAsync(id, ProposalState.AwaitingApproval);
        return id;
    }

    private static ImpactReport Impact(bool reachable, string[]? dataClasses = null) => OrchestratorPlane.Impact(["billing"], dataClasses: dataClasses) with
    {
        TargetNodes =
        [
            new ImpactedNode("billing", 0, ["billing"], 2, "payments", false, dataClasses ?? [], false, null, reachable,
                reachable ? ["edge-gateway", "billing"] : null),
        ],
    };

    private static FleetAnswer Hold(ConcurrentQueue<WorkRequested> held, WorkRequested work)
    {
        held.Enqueue(work);
        return FleetAnswer.Silent;
    }
}

public sealed class ShortWorkPlane(IdentityFixture identity) : PlaneFixture(identity, "orch-gate-timeout")
{
    protected override void Configure(PlaneSettings settings) => settings
        .Set("Orchestrator:Scheduling:Interval", "00:00:00.200")
        .Set("Orchestrator:Work:Timeout", "00:00:02")
        .Set("Orchestrator:Work:Grace", "00:00:01")
        .Set("Orchestrator:Work:MaxAttempts", "2")
        .Set("Orchestrator:Work:AcceptTimeout", "00:01:00");
}

/// <summary>An advisory suite whose runner never answers: reported once its offers are spent, and the change goes on.</summary>
public sealed class AdvisoryTimeoutTests(ShortWorkPlane fixture) : IClassFixture<ShortWorkPlane>
{
    private readonly OrchestratorPlane _plane = fixture.Plane;

    [Fact]
    public async Task An_advisory_suite_that_never_answers_is_reported_and_does_not_fail_the_change()
    {
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal("gate-timeout-" + Guid.NewGuid().ToString("N")[..8], "dev"));
        _plane.Fleet.Behave(id, w => w.Name == "reports-smoke" ? FleetAnswer.Silent : FleetAnswer.Succeed);
        await _plane.AssessAsync(id);
        StepRequirement Suite(string name, bool advisory) => new(name, "run-command",
            new Dictionary<string, string> { ["command"] = "run-suite", ["suite"] = name, ["node"] = "billing" }, 0, advisory);
        await _plane.DecideAsync(id, OrchestratorPlane.Allow([Suite("billing-api", advisory: false), Suite("reports-smoke", advisory: true)]));

        var done = await _plane.WaitForStateAsync(id, ProposalState.Completed, TimeSpan.FromSeconds(60));

        Assert.Equal(2, _plane.WorkFor(id).Count(w => w.Name == "reports-smoke")); // offered, then offered once more
        var advisory = done.Gates![0].Suites.Single(s => s.Name == "reports-smoke");
        Assert.Equal((SuiteResults.AdvisoryFailed, 1), (advisory.Result, advisory.Attempts));
        var verdict = await _plane.Bus.WaitForAsync<ValidationVerdict>(v => v.ProposalId == id, "the verdict");
        Assert.True(verdict.Passed);
    }
}
