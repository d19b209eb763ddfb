using System.Net;
using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Scheduling;
using ControlPlane.Orchestrator.Tests.Infrastructure;
using ControlPlane.Testing;

namespace ControlPlane.Orchestrator.Tests.Integration;

public sealed class ExecutionPlane(IdentityFixture identity) : PlaneFixture(identity, "orch-exec")
{
    protected override void Configure(PlaneSettings settings) => settings
        .Set("Orchestrator:Leases:Ttl", "00:00:03")
        .Set("Orchestrator:Scheduling:Interval", "00:00:00.200")
        .Set("Orchestrator:Work:Timeout", "00:00:08")
        .Set("Orchestrator:Work:Grace", "00:00:01")
        .Set("Orchestrator:Concurrency:staging", "2");

    protected override IReadOnlyList<ChangeWindowRequest> Windows => [AlwaysDeny("test freeze", "production")];
}

/// <summary>
/// Validate → schedule → execute → verify against the real servers, with the test playing fleet (WorkRequested in,
/// WorkCompleted out). Tests of this class run one after another and share the plane.
/// </summary>
public sealed class ExecutionTests(ExecutionPlane fixture) : IClassFixture<ExecutionPlane>
{
    private static readonly StepRequirement UnitTests = new("unit-tests", "run-command", new Dictionary<string, string> { ["command"] = "unit-tests" });
    private static readonly StepRequirement ContractTests = new("contract-tests", "run-command", new Dictionary<string, string> { ["command"] = "contract-tests" });
    private static readonly StepRequirement Health = new("health", "http-check",
        new Dictionary<string, string> { ["fleet"] = "observe", ["url"] = "http://billing.internal/health", ["expectedStatus"] = "200" });

    private readonly OrchestratorPlane _plane = fixture.Plane;

    private static string Key() => "exec-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task The_full_path_validates_schedules_executes_verifies_and_completes()
    {
        var id = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), "dev", targets: ["search"]),
            OrchestratorPlane.Allow([UnitTests, ContractTests], [Health]));

        var done = await _plane.WaitForStateAsync(id, ProposalState.Completed);

        Assert.Equal(
            [ProposalState.Submitted, ProposalState.Assessing, ProposalState.Authorized, ProposalState.Validating, ProposalState.Scheduled,
                ProposalState.Executing, ProposalState.Verifying, ProposalState.Completed],
            done.History.Select(h => h.To));
        var work = _plane.WorkFor(id);
        Assert.Equal([WorkStep.Validate, WorkStep.Validate, WorkStep.Execute, WorkStep.Verify], work.Select(w => w.Step));
        Assert.All(work.Take(2), w => Assert.Equal(("testing", "run-command"), (w.Fleet, w.ActionKind)));
        Assert.Equal(["contract-tests", "unit-tests"], work.Take(2).Select(w => w.Parameters["command"]).Order(StringComparer.Ordinal));

        var execute = work[2];
        Assert.Equal(("remediation", "run-command", "execute"), (execute.Fleet, execute.ActionKind, execute.Name));
        Assert.Equal("restart-service", execute.Parameters["command"]);
        Assert.Equal("search", execute.Parameters["targets"]);
        Assert.Equal(["search"], execute.Targets);
        Assert.Equal("dev", execute.Environment);
        Assert.Equal(done.ContentHash, execute.ContentHash);
        Assert.True(execute.FencingTokens["search"] > 0);
        Assert.Equal(TimeSpan.FromSeconds(8), execute.Timeout);

        var verify = work[3];
        Assert.Equal(("observe", "http-check", "health"), (verify.Fleet, verify.ActionKind, verify.Name));
        Assert.False(verify.Parameters.ContainsKey("fleet"));

        Assert.All(done.Work, w => Assert.Equal(WorkStatus.Succeeded, w.Status));
        var lease = Assert.Single(done.Leases);
        Assert.Equal(execute.FencingTokens["search"], lease.FencingToken);
        Assert.NotNull(lease.ReleasedAt);
        await Eventually.UntilAsync(async () => !await RedisProbe.ExistsAsync(_plane.RedisPrefix + "orchestrator:lease:dev:search"),
            TimeSpan.FromSeconds(10), "the lease freed in Redis");
    }

    [Fact]
    public async Task A_failing_validation_ends_it_as_failed_and_nothing_executes()
    {
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "dev", targets: ["catalog"]));
        _plane.Fleet.Behave(id, w => w.Name == "unit-tests" ? FleetAnswer.Fail : FleetAnswer.Succeed);
        await _plane.AssessAsync(id);
        await _plane.DecideAsync(id, OrchestratorPlane.Allow([UnitTests, ContractTests]));

        var failed = await _plane.WaitForStateAsync(id, ProposalState.Failed);
        await Task.Delay(1500); // give a wrong scheduler the chance to start it anyway

        Assert.Equal(ProposalState.Validating, failed.History[^1].From);
        Assert.Contains("validate 'unit-tests' failed on test-runner: exit code 1", failed.History[^1].Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(_plane.WorkFor(id), w => w.Step == WorkStep.Execute);
        Assert.Equal(ProposalState.Failed, (await _plane.GetAsync(id)).State);
        Assert.Empty((await _plane.GetAsync(id)).Leases);
    }

    [Fact]
    public async Task A_failing_verification_fails_it_and_issues_the_rollback_as_its_own_work()
    {
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "dev", targets: ["notifications"],
            rollbackPlan: "redeploy image notifications:41"));
        _plane.Fleet.Behave(id, w => w.Step == WorkStep.Verify ? FleetAnswer.Fail : FleetAnswer.Succeed);
        await _plane.AssessAsync(id);
        await _plane.DecideAsync(id, OrchestratorPlane.Allow(verifications: [Health]));

        var failed = await _plane.WaitForStateAsync(id, ProposalState.Failed);
        var rollback = await _plane.Bus.WaitForAsync<WorkRequested>(w => w.ProposalId == id && w.Step == WorkStep.Rollback, "the rollback work");
        var execute = _plane.WorkFor(id).Single(w => w.Step == WorkStep.Execute);

        Assert.Equal(ProposalState.Verifying, failed.History[^1].From);
        Assert.Equal(("remediation", "run-command", "rollback"), (rollback.Fleet, rollback.ActionKind, rollback.Name));
        Assert.Equal("redeploy image notifications:41", rollback.Parameters["rollbackPlan"]);
        Assert.Equal("rollback-service", rollback.Parameters["command"]);
        Assert.Equal(execute.FencingTokens, rollback.FencingTokens);
        var settled = await Eventually.UntilAsync(() => _plane.GetAsync(id), p => p.Leases.All(l => l.ReleasedAt is not null) &&
            p.Work.Any(w => w.Step == WorkStep.Rollback && w.Status == WorkStatus.Succeeded), TimeSpan.FromSeconds(20), "the rollback done and the leases freed");
        Assert.Equal(ProposalState.Failed, settled.State);
    }

    [Fact]
    public async Task Two_proposals_on_the_same_target_never_execute_at_once()
    {
        var first = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "dev", targets: ["ledger"]));
        var second = await _plane.SubmitAsync(IdentityFixture.TestingAgent, OrchestratorPlane.Proposal(Key(), "dev", targets: ["ledger", "search-index"]));
        foreach (var id in new[] { first, second })
        {
            _plane.Fleet.Behave(id, w => w.Step == WorkStep.Execute ? FleetAnswer.SucceedAfter(TimeSpan.FromSeconds(1.5)) : FleetAnswer.Succeed);
            await _plane.AssessAsync(id);
        }

        await _plane.DecideAsync(first, OrchestratorPlane.Allow());
        await _plane.WaitForStateAsync(first, ProposalState.Executing);
        await _plane.DecideAsync(second, OrchestratorPlane.Allow());
        var waiting = await Eventually.UntilAsync(() => _plane.GetAsync(second), p => p.WaitingReason is not null, TimeSpan.FromSeconds(10), "second waits");

        Assert.Equal(ProposalState.Scheduled, waiting.State);
        Assert.Contains("ledger", waiting.WaitingReason, StringComparison.Ordinal);
        await _plane.WaitForStateAsync(first, ProposalState.Completed);
        await _plane.WaitForStateAsync(second, ProposalState.Completed);

        var runs = _plane.Fleet.Executions.Where(e => e.ProposalId == first || e.ProposalId == second).OrderBy(e => e.Start).ToList();
        Assert.Equal(2, runs.Count);
        Assert.True(runs[0].End <= runs[1].Start, $"executions overlap: {runs[0]} and {runs[1]}");
        var tokens = new[] { first, second }.Select(id => _plane.WorkFor(id).Single(w => w.Step == WorkStep.Execute).FencingTokens["ledger"]).ToList();
        Assert.True(tokens[1] > tokens[0], $"fencing tokens must grow: {tokens[0]} then {tokens[1]}");
    }

    [Fact]
    public async Task The_concurrency_limit_holds_under_a_burst_of_ten_proposals()
    {
        var ids = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "staging", targets: [$"burst-{i}"]))));
        foreach (var id in ids)
        {
            _plane.Fleet.Behave(id, w => w.Step == WorkStep.Execute ? FleetAnswer.SucceedAfter(TimeSpan.FromMilliseconds(700)) : FleetAnswer.Succeed);
        }

        await Task.WhenAll(ids.Select(id => _plane.AssessAsync(id)));
        await Task.WhenAll(ids.Select(id => _plane.DecideAsync(id, OrchestratorPlane.Allow())));

        foreach (var id in ids)
        {
            await _plane.WaitForStateAsync(id, ProposalState.Completed, TimeSpan.FromSeconds(60));
        }

        Assert.Equal(2, _plane.Fleet.PeakIn("staging"));
        Assert.Equal(10, _plane.Fleet.Executions.Count(e => ids.Contains(e.ProposalId)));
    }

    [Fact]
    public async Task A_kill_switch_holds_new_work_until_an_operator_releases_it()
    {
        using var olga = await _plane.HumanAsync(IdentityFixture.Olga);
        using var vera = await _plane.HumanAsync(IdentityFixture.Vera);
        using (var denied = await vera.PostAsJsonAsync("schedule/kill-switches", new { scope = "environment", value = "dev", reason = "incident" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        }

        using (var engaged = await olga.PostAsJsonAsync("schedule/kill-switches", new { scope = "environment", value = "dev", reason = "incident 42" }))
        {
            Assert.Equal(HttpStatusCode.Created, engaged.StatusCode);
        }

        using (var invalid = await olga.PostAsJsonAsync("schedule/kill-switches", new { scope = "planet", value = "earth" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        }

        await _plane.Bus.WaitForAsync<KillSwitchChanged>(k => k.Value == "dev" && k.Engaged && k.ChangedBy == IdentityFixture.Olga, "KillSwitchChanged engaged");
        var id = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), "dev", targets: ["reports"]), OrchestratorPlane.Allow());
        var held = await Eventually.UntilAsync(() => _plane.GetAsync(id), p => p.WaitingReason is not null, TimeSpan.FromSeconds(10), "held by the switch");
        await Task.Delay(1000);

        Assert.Contains("kill switch engaged on environment dev: incident 42", held.WaitingReason, StringComparison.Ordinal);
        Assert.Equal(ProposalState.Scheduled, (await _plane.GetAsync(id)).State);
        Assert.DoesNotContain(_plane.WorkFor(id), w => w.Step == WorkStep.Execute);

        using (var unexplained = await olga.DeleteAsync("schedule/kill-switches/environment/dev"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unexplained.StatusCode);
        }

        using (var released = await olga.DeleteAsync("schedule/kill-switches/environment/dev?reason=incident%2042%20resolved"))
        {
            Assert.Equal(HttpStatusCode.NoContent, released.StatusCode);
        }

        using (var again = await olga.DeleteAsync("schedule/kill-switches/environment/dev?reason=again"))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }

        await _plane.WaitForStateAsync(id, ProposalState.Completed);
        await _plane.Bus.WaitForAsync<KillSwitchChanged>(
            k => k.Value == "dev" && !k.Engaged && k.Reason == "released: incident 42 resolved (engaged for: incident 42)", "KillSwitchChanged released with its reason");
    }

    [Fact]
    public async Task A_deny_window_starts_nothing_in_its_environment()
    {
        var id = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), "production", targets: ["gateway"]), OrchestratorPlane.Allow());

        var held = await Eventually.UntilAsync(() => _plane.GetAsync(id), p => p.WaitingReason is not null, TimeSpan.FromSeconds(10), "held by the freeze");
        await Task.Delay(1000);

        Assert.Contains("deny window 'test freeze' (* * * * *, 1h, UTC) holds production", held.WaitingReason, StringComparison.Ordinal);
        Assert.Equal(ProposalState.Scheduled, (await _plane.GetAsync(id)).State);
        Assert.Empty(_plane.WorkFor(id));
        using var agent = await _plane.AgentAsync(IdentityFixture.RemediationAgent);
        using var cancelled = await agent.PostAsync($"proposals/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
    }

    [Fact]
    public async Task Execution_refuses_when_what_the_approver_pinned_drifted()
    {
        using var olga = await _plane.HumanAsync(IdentityFixture.Olga);
        using (await olga.PostAsJsonAsync("schedule/kill-switches", new { scope = "environment", value = "staging", reason = "hold for the drift test" }))
        {
        }

        try
        {
            var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "staging", targets: ["checkout"]));
            var submitted = await _plane.Bus.WaitForAsync<ProposalSubmitted>(s => s.ProposalId == id, "ProposalSubmitted");
            await _plane.DecideAsync(id, OrchestratorPlane.RequireApproval(), graphVersion: 7); // the decision overtakes the assessment
            await _plane.WaitForStateAsync(id, ProposalState.AwaitingApproval);
            using (var stella = await _plane.HumanAsync(IdentityFixture.Stella))
            using (var approved = await stella.PostAsJsonAsync($"proposals/{id}/approvals", new { decision = "approve" }))
            {
                Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
            }

            await _plane.WaitForStateAsync(id, ProposalState.Scheduled);
            await _plane.Bus.PublishAsync(new ImpactAssessed(id, submitted, OrchestratorPlane.Impact(submitted.Targets, graphVersion: 8)));
            // The late assessment's report is kept; the state stays (the decision came first).
            await Eventually.UntilAsync(() => _plane.GetAsync(id), p => p.Impact?.GraphVersion == 8, TimeSpan.FromSeconds(30), "the late assessment's report kept");
            using (await olga.DeleteAsync("schedule/kill-switches/environment/staging?reason=test%20done"))
            {
            }

            var failed = await _plane.WaitForStateAsync(id, ProposalState.Failed);
            Assert.StartsWith("approval drift", failed.History[^1].Reason, StringComparison.Ordinal);
            Assert.Contains("graph v7", failed.History[^1].Reason, StringComparison.Ordinal);
            Assert.Contains("now", failed.History[^1].Reason, StringComparison.Ordinal);
            Assert.DoesNotContain(_plane.WorkFor(id), w => w.Step == WorkStep.Execute);
            // The outbox relays in order: the failure's event has come, so a refusal of the late assessment would have too.
            await _plane.Bus.WaitForAsync<ProposalStateChanged>(c => c.ProposalId == id && c.To == ProposalState.Failed, "the failure event");
            Assert.DoesNotContain(_plane.Bus.Seen<ProposalTransitionRefused>(), r => r.ProposalId == id && r.Trigger == "impact-assessed");
        }
        finally
        {
            using (await olga.DeleteAsync("schedule/kill-switches/environment/staging?reason=test%20done"))
            {
            }
        }
    }

    [Fact]
    public async Task A_refused_package_is_a_failed_attempt_and_unknown_results_change_nothing()
    {
        await _plane.Bus.PublishAsync(new WorkCompleted(Guid.NewGuid(), Guid.NewGuid(), WorkStep.Execute, "stray-runner", WorkOutcome.Succeeded, null, null,
            DateTimeOffset.UtcNow));
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "dev", targets: ["mailer"], rollbackPlan: null));
        _plane.Fleet.Behave(id, w => w.Step == WorkStep.Execute ? new FleetAnswer(null, TimeSpan.Zero, Refuse: true) : FleetAnswer.Succeed);
        await _plane.AssessAsync(id);
        await _plane.DecideAsync(id, OrchestratorPlane.Allow());

        var failed = await _plane.WaitForStateAsync(id, ProposalState.Failed);

        Assert.Equal(ProposalState.Executing, failed.History[^1].From);
        Assert.Contains("refused by the runner: stale fencing token", failed.History[^1].Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(_plane.WorkFor(id), w => w.Step == WorkStep.Rollback); // no plan, no rollback
        Assert.All(failed.Leases, l => Assert.NotNull(l.ReleasedAt));
    }
}
