using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Scheduling;
using ControlPlane.Orchestrator.Tests.Infrastructure;
using ControlPlane.Testing;
using MassTransit;

namespace ControlPlane.Orchestrator.Tests.Integration;

public sealed class LifecyclePlane(IdentityFixture identity) : PlaneFixture(identity, "orch-lifecycle")
{
    // Authorized proposals move on to scheduling at once; frozen environments keep them there for these tests.
    protected override IReadOnlyList<ChangeWindowRequest> Windows => FreezeEverything;
}

/// <summary>
/// Propose → assess → decide → authorize on the real bus and database, with the test playing system-graph and
/// policy, and real human and agent tokens from identity.
/// </summary>
public sealed class LifecycleTests(LifecyclePlane fixture) : IClassFixture<LifecyclePlane>
{
    private readonly OrchestratorPlane _plane = fixture.Plane;

    private static string Key() => "life-" + Guid.NewGuid().ToString("N")[..12];

    private static Task<HttpResponseMessage> ApproveAsync(HttpClient http, Guid id, string decision = "approve", object? pins = null) =>
        http.PostAsJsonAsync($"proposals/{id}/approvals", pins ?? new { decision, comment = "looked at the impact" });

    private async Task<Guid> AwaitingApprovalAsync(int count = 1, TimeSpan? expiresAfter = null)
    {
        var id = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), "production"), OrchestratorPlane.RequireApproval(count, expiresAfter));
        await _plane.WaitForStateAsync(id, ProposalState.AwaitingApproval);
        return id;
    }

    private async Task<string> WaitingReasonAsync(Guid id) =>
        (await Eventually.UntilAsync(() => _plane.GetAsync(id), p => p.WaitingReason is not null, TimeSpan.FromSeconds(10), "a waiting reason")).WaitingReason!;

    [Fact]
    public async Task A_low_risk_dev_action_is_authorized_without_a_human_within_seconds()
    {
        var id = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), "dev", targets: ["search"]), OrchestratorPlane.Allow());

        var authorized = await _plane.WaitForStateAsync(id, ProposalState.Scheduled, TimeSpan.FromSeconds(10));

        Assert.Equal([ProposalState.Submitted, ProposalState.Assessing, ProposalState.Authorized, ProposalState.Scheduled], authorized.History.Select(h => h.To));
        Assert.Equal(["system-graph", "policy", "orchestrator"], authorized.History.Skip(1).Select(h => h.Actor));
        Assert.Equal(DecisionOutcome.Allow, authorized.Decision!.Outcome);
        Assert.Equal("sha256:bundle", authorized.Decision.BundleHash);
        Assert.Equal(["dev-autonomous"], authorized.Decision.RulesFired);
        Assert.Equal(7, authorized.Impact!.GraphVersion);
        Assert.NotNull(authorized.AuthorizedAt);
        Assert.Empty(authorized.Approvals);
        await _plane.Bus.WaitForAsync<ProposalStateChanged>(c => c.ProposalId == id && c.To == ProposalState.Authorized && c.Actor == "policy",
            "ProposalStateChanged to authorized");
    }

    [Fact]
    public async Task A_production_billing_change_waits_for_a_named_approver_and_refuses_everyone_else()
    {
        var id = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), "production"), OrchestratorPlane.RequireApproval(),
            OrchestratorPlane.Impact(["billing"], revenuePath: true, dataClasses: ["pci"]));
        var waiting = await _plane.WaitForStateAsync(id, ProposalState.AwaitingApproval);
        Assert.Contains("billing is on the revenue path", waiting.Decision!.Reasons);
        Assert.Contains("billing holds regulated data", waiting.Decision.Reasons);
        Assert.Equal(1, waiting.ApprovalStatus!.Required);
        Assert.NotNull(waiting.ApprovalStatus.ExpiresAt);

        using var viewer = await _plane.HumanAsync(IdentityFixture.Vera);
        using var agent = await _plane.AgentAsync(IdentityFixture.RemediationAgent);
        using var sponsor = await _plane.HumanAsync(IdentityFixture.Sam);
        using var staging = await _plane.HumanAsync(IdentityFixture.Stella);
        using var alice = await _plane.HumanAsync(IdentityFixture.Alice);

        using (var r = await ApproveAsync(viewer, id))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }

        using (var r = await ApproveAsync(agent, id))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }

        using (var r = await ApproveAsync(sponsor, id))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
            Assert.Contains("sponsors the proposing agent", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var r = await ApproveAsync(staging, id))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }

        using (var r = await ApproveAsync(alice, id, pins: new { decision = "approve", proposalHash = "sha256:stale" }))
        {
            Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
            Assert.Contains("changed since you looked", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var r = await ApproveAsync(alice, id, pins: new { decision = "approve", proposalHash = waiting.ContentHash, graphVersion = 7, policyHash = "sha256:bundle" }))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("scheduled", JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("state").GetString());
        }

        var authorized = await _plane.GetAsync(id);
        Assert.Equal(ProposalState.Scheduled, authorized.State);
        Assert.Contains(authorized.History, h => h.To == ProposalState.Authorized && h.Actor == IdentityFixture.Alice);
        Assert.Contains("deny window 'tests of approval only'", authorized.WaitingReason ?? await WaitingReasonAsync(id), StringComparison.Ordinal);
        var approval = Assert.Single(authorized.Approvals);
        Assert.Equal((IdentityFixture.Alice, waiting.ContentHash, 7L, "sha256:bundle"), (approval.ApproverId, approval.ProposalHash, approval.GraphVersion, approval.PolicyHash));
        await _plane.Bus.WaitForAsync<ApprovalRecorded>(a => a.ProposalId == id && a.ApproverId == IdentityFixture.Alice, "ApprovalRecorded");

        using var late = await ApproveAsync(alice, id);
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
    }

    [Fact]
    public async Task Two_required_approvals_need_two_distinct_humans()
    {
        var id = await AwaitingApprovalAsync(count: 2);
        using var alice = await _plane.HumanAsync(IdentityFixture.Alice);
        using var bob = await _plane.HumanAsync(IdentityFixture.Bob);

        using (var first = await ApproveAsync(alice, id))
        {
            var body = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("awaiting-approval", body.GetProperty("state").GetString());
            Assert.Equal(1, body.GetProperty("approvals").GetInt32());
            Assert.Equal(2, body.GetProperty("required").GetInt32());
        }

        using (var twice = await ApproveAsync(alice, id))
        {
            Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        }

        Assert.Equal(ProposalState.AwaitingApproval, (await _plane.GetAsync(id)).State);
        using (var second = await ApproveAsync(bob, id))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }

        var authorized = await _plane.GetAsync(id);
        Assert.Equal(ProposalState.Scheduled, authorized.State);
        Assert.Equal([IdentityFixture.Alice, IdentityFixture.Bob], authorized.Approvals.Select(a => a.ApproverId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Concurrent_approvals_are_both_counted()
    {
        var id = await AwaitingApprovalAsync(count: 2);
        using var alice = await _plane.HumanAsync(IdentityFixture.Alice);
        using var bob = await _plane.HumanAsync(IdentityFixture.Bob);

        var answers = await Task.WhenAll(ApproveAsync(alice, id), ApproveAsync(bob, id));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        var authorized = await _plane.GetAsync(id);
        Assert.Equal(ProposalState.Scheduled, authorized.State);
        Assert.Equal(2, authorized.Approvals.Count);
        foreach (var a in answers)
        {
            a.Dispose();
        }
    }

    [Fact]
    public async Task One_rejection_ends_the_proposal_as_rejected()
    {
        var id = await AwaitingApprovalAsync(count: 2);
        using var bob = await _plane.HumanAsync(IdentityFixture.Bob);

        using var response = await ApproveAsync(bob, id, "reject");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var rejected = await _plane.GetAsync(id);
        Assert.Equal(ProposalState.Rejected, rejected.State);
        Assert.Equal(ApprovalDecision.Reject, Assert.Single(rejected.Approvals).Decision);
        Assert.StartsWith("rejected by bob@example.com", rejected.History[^1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_approval_window_that_passes_ends_the_proposal_as_expired()
    {
        var id = await AwaitingApprovalAsync(expiresAfter: TimeSpan.FromSeconds(2));

        var expired = await _plane.WaitForStateAsync(id, ProposalState.Expired, TimeSpan.FromSeconds(15));

        Assert.Equal("orchestrator:timer", expired.History[^1].Actor);
        using var alice = await _plane.HumanAsync(IdentityFixture.Alice);
        using var late = await ApproveAsync(alice, id);
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
    }

    [Fact]
    public async Task A_denied_action_ends_as_denied_with_the_rule_id()
    {
        var id = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), "production", kind: "delete-data", rollbackPlan: null), OrchestratorPlane.Deny());

        var denied = await _plane.WaitForStateAsync(id, ProposalState.Denied);

        Assert.Equal(["deny-destructive-regulated"], denied.Decision!.RulesFired);
        Assert.Contains("deny-destructive-regulated", denied.History[^1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_agent_or_an_operator_cancels_and_nobody_else_does()
    {
        var own = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), "production"), OrchestratorPlane.RequireApproval());
        var byOperator = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), "production"), OrchestratorPlane.RequireApproval());
        await _plane.WaitForStateAsync(own, ProposalState.AwaitingApproval);
        await _plane.WaitForStateAsync(byOperator, ProposalState.AwaitingApproval);
        using var agent = await _plane.AgentAsync(IdentityFixture.RemediationAgent);
        using var otherAgent = await _plane.AgentAsync(IdentityFixture.TestingAgent);
        using var olga = await _plane.HumanAsync(IdentityFixture.Olga);
        using var vera = await _plane.HumanAsync(IdentityFixture.Vera);

        using (var r = await otherAgent.PostAsJsonAsync($"proposals/{own}/cancel", new { reason = "not mine" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }

        using (var r = await vera.PostAsync($"proposals/{own}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode); // viewers lack proposals:cancel
        }

        using (var r = await agent.PostAsJsonAsync($"proposals/{own}/cancel", new { reason = "found a better fix" }))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        using (var r = await olga.PostAsync($"proposals/{byOperator}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        using (var r = await agent.PostAsync($"proposals/{own}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
        }

        var cancelled = await _plane.GetAsync(own);
        Assert.Equal(ProposalState.Cancelled, cancelled.State);
        Assert.Equal("cancelled by remediation-agent: found a better fix", cancelled.History[^1].Reason);
        Assert.Equal(ProposalState.Cancelled, (await _plane.GetAsync(byOperator)).State);
        Assert.Null(cancelled.ApprovalStatus!.ExpiresAt); // the expiry timer went with the wait
        await _plane.Bus.WaitForAsync<ProposalTransitionRefused>(r => r.ProposalId == own && r.Trigger == "cancel", "the late cancel recorded as refused");
    }

    [Fact]
    public async Task Illegal_and_foreign_triggers_are_refused_recorded_and_never_applied()
    {
        var id = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), "dev"), OrchestratorPlane.Allow());
        var authorized = await _plane.WaitForStateAsync(id, ProposalState.Scheduled);

        await _plane.DecideAsync(id, OrchestratorPlane.Deny());
        await _plane.Bus.PublishAsync(new PolicyDecided(id, "sha256:someone-else", 7, OrchestratorPlane.Deny()));

        await _plane.Bus.WaitForAsync<ProposalTransitionRefused>(r => r.ProposalId == id && r.Trigger == "policy-denied" && r.State == ProposalState.Scheduled,
            "the late decision refused");
        await _plane.Bus.WaitForAsync<ProposalTransitionRefused>(r => r.ProposalId == id && r.Reason.Contains("content hash", StringComparison.Ordinal),
            "the foreign decision refused");
        var after = await _plane.GetAsync(id);
        Assert.Equal(ProposalState.Scheduled, after.State);
        Assert.Equal(authorized.Version, after.Version);
        Assert.Equal(DecisionOutcome.Allow, after.Decision!.Outcome);
    }

    [Fact]
    public async Task A_redelivered_event_has_no_second_effect()
    {
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "dev"));
        var submitted = await _plane.Bus.WaitForAsync<ProposalSubmitted>(s => s.ProposalId == id, "ProposalSubmitted");
        var messageId = NewId.NextGuid();
        var assessed = new ImpactAssessed(id, submitted, OrchestratorPlane.Impact(submitted.Targets));

        await _plane.Bus.Bus.Publish(assessed, c => c.MessageId = messageId);
        await _plane.WaitForStateAsync(id, ProposalState.Assessing);
        await _plane.Bus.Bus.Publish(assessed, c => c.MessageId = messageId);
        await _plane.Bus.Bus.Publish(assessed); // a second, distinct message: refused and recorded
        await _plane.Bus.WaitForAsync<ProposalTransitionRefused>(r => r.ProposalId == id && r.Trigger == "impact-assessed", "the distinct repeat refused");

        Assert.Single(_plane.Bus.Seen<ProposalTransitionRefused>(), r => r.ProposalId == id);
        var view = await _plane.GetAsync(id);
        Assert.Equal(2, view.History.Count);
    }
}
