using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Testing;

namespace ControlPlane.Policy.Tests.TrackRecord;

/// <summary>
/// Earned autonomy through the real service: outcome events on RabbitMQ → the track_record projection in PostgreSQL →
/// the staging restart decision and the autonomy report.
/// </summary>
[Collection(PolicyCollection.Name)]
public sealed class TrackRecordProjectionTests(PolicyFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Twenty_verified_restarts_earn_unattended_staging_restarts_a_rollback_takes_them_back_and_the_report_says_what_is_left()
    {
        var agent = "earning-agent-" + Guid.NewGuid().ToString("N")[..8];
        using var admin = await fixture.ClientAsync(PolicyFixture.PolicyAdmin);
        using var viewer = await fixture.ClientAsync(PolicyFixture.Viewer);
        var original = (await admin.GetFromJsonAsync<JsonElement>("policies/active")).GetProperty("hash").GetString()!;
        try
        {
            using (var put = await admin.PutAsync("policies", new StringContent(EarnedAutonomyBundle.Yaml, Encoding.UTF8, "application/yaml")))
            {
                Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
            }

            await fixture.Bus.PublishAsync(new PrincipalChanged(agent, "agent", "Earning agent", "sam@example.com", "remediation", ["staging"], ["restart"],
                "registered", "admin@example.com", DateTimeOffset.UtcNow), Guid.NewGuid());

            var before = await DecideAsync(agent);
            Assert.Equal(DecisionOutcome.RequireApproval, before.Outcome);
            Assert.Contains($"agent {agent} has 0 of 20 verified successes for restart in staging in 30d", Assert.Single(before.Reasons), StringComparison.Ordinal);
            Assert.Equal("20 more verified successes in 30d", (await StagingRestartAsync(viewer, agent, _ => true)).GetProperty("summary").GetString());

            // Twenty restarts complete (verified); the first one's events are delivered again and count once.
            var acknowledged = await fixture.Plane.Vhost.AcknowledgedAsync("policy-proposal-state-changed");
            var first = await PublishRestartAsync(agent, ProposalState.Completed);
            for (var i = 1; i < 20; i++)
            {
                await PublishRestartAsync(agent, ProposalState.Completed);
            }

            await fixture.Bus.PublishAsync(first.Submitted, first.SubmittedId);
            await fixture.Bus.PublishAsync(first.Ended, first.EndedId);
            await fixture.Bus.PublishAsync(first.Ended, Guid.NewGuid());
            // One more completes with no verification requested (the decision asked for none): not a verified success.
            await PublishRestartAsync(agent, ProposalState.Completed, verified: false);
            await fixture.Plane.WaitUntilSettledAsync("policy-proposal-state-changed", acknowledged, deliveries: 23, Wait);
            await Eventually.UntilAsync(() => CountAsync(agent, "outcome = 'verified' and action_kind = 'restart' and verification_requested"), n => n == 20, Wait,
                "20 verified restarts projected");
            Assert.Equal(1, await CountAsync(agent, "outcome = 'verified' and not verification_requested"));

            var earned = await DecideAsync(agent);
            Assert.Equal(DecisionOutcome.Allow, earned.Outcome);
            Assert.Equal(["staging-restart-earned"], earned.RulesFired);
            Assert.Equal(21, await CountAsync(agent, "outcome = 'verified'"));

            // A restart fails after executing and orchestrator rolls it back.
            var failed = await PublishRestartAsync(agent, ProposalState.Failed);
            await fixture.Bus.PublishAsync(Work(failed.Submitted, WorkStep.Rollback, "rollback"), Guid.NewGuid());
            await Eventually.UntilAsync(() => CountAsync(agent, "rolled_back_at is not null and outcome = 'failed'"), n => n == 1, Wait, "the rollback projected");

            var afterRollback = await DecideAsync(agent);
            Assert.Equal(DecisionOutcome.RequireApproval, afterRollback.Outcome);
            Assert.Equal(["staging-restart-after-rollback"], afterRollback.RulesFired);
            Assert.Contains($"agent {agent} has 1 rollback for restart in staging in 30d, at least 1", Assert.Single(afterRollback.Reasons), StringComparison.Ordinal);

            var report = await StagingRestartAsync(viewer, agent, r => r.GetProperty("windows")[0].GetProperty("rollbacks").GetInt32() == 1);
            var window = report.GetProperty("windows")[0];
            Assert.Equal(("30d", 20, 1, 1), (window.GetProperty("window").GetString(), window.GetProperty("verifiedSuccesses").GetInt32(),
                window.GetProperty("failures").GetInt32(), window.GetProperty("rollbacks").GetInt32()));
            Assert.Equal("no rollback for 30 more days", report.GetProperty("summary").GetString());
        }
        finally
        {
            // Other tests of the collection expect the default bundle.
            using var rollback = await admin.PostAsync($"policies/{Uri.EscapeDataString(original)}/activate", null);
        }
    }

    private sealed record Restart(ProposalSubmitted Submitted, Guid SubmittedId, ProposalStateChanged Ended, Guid EndedId);

    private async Task<Restart> PublishRestartAsync(string agent, ProposalState end, bool verified = true)
    {
        var restart = new Restart(Proposal(agent), Guid.NewGuid(), null!, Guid.NewGuid());
        restart = restart with { Ended = new ProposalStateChanged(restart.Submitted.ProposalId, ProposalState.Verifying, end, "verifications-passed", "orchestrator", 9, DateTimeOffset.UtcNow) };
        await fixture.Bus.PublishAsync(restart.Submitted, restart.SubmittedId);
        if (verified)
        {
            await fixture.Bus.PublishAsync(Work(restart.Submitted, WorkStep.Verify, "verify-service"), Guid.NewGuid());
        }

        await fixture.Bus.PublishAsync(restart.Ended, restart.EndedId);
        return restart;
    }

    private static WorkRequested Work(ProposalSubmitted proposal, WorkStep step, string command) =>
        new(proposal.ProposalId, Guid.NewGuid(), step, command, "remediation", "run-command", new Dictionary<string, string> { ["command"] = command },
            ["billing"], "staging", proposal.ContentHash, new Dictionary<string, long>(), TimeSpan.FromMinutes(5), DateTimeOffset.UtcNow);

    private static ProposalSubmitted Proposal(string agent) => new(Guid.NewGuid(), "sha256:" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()), agent,
        "sam@example.com", "remediation", new ProposedAction("restart", "restart billing", new Dictionary<string, string>()), ["billing"], "staging",
        new ChangeReference("sha256:beef", "git@example.com:billing.git#v2", "restart again"), DateTimeOffset.UtcNow);

    private async Task<PolicyDecision> DecideAsync(string agent)
    {
        var proposal = Proposal(agent);
        await fixture.Bus.PublishAsync(new ImpactAssessed(proposal.ProposalId, proposal, Bundles.Facts.Impact(3, false, ["public"], 0, false, [])), Guid.NewGuid());
        var decided = await Eventually.UntilAsync(() => Task.FromResult(fixture.Bus.Received<PolicyDecided>().Where(d => d.Message.ProposalId == proposal.ProposalId).ToList()),
            d => d.Count >= 1, Wait, "PolicyDecided for the staging restart");
        return decided[0].Message.Decision;
    }

    private Task<long> CountAsync(string agent, string where) =>
        fixture.Plane.CountAsync($"select count(*) from track_record where agent_id = '{agent}' and {where}");

    /// <summary>The staging × restart entry's track record in the agent's autonomy report, once it satisfies <paramref name="ready"/>.</summary>
    private static Task<JsonElement> StagingRestartAsync(HttpClient viewer, string agent, Func<JsonElement, bool> ready) =>
        Eventually.UntilAsync(async () =>
        {
            using var response = await viewer.GetAsync($"agents/{agent}/autonomy");
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return default;
            }

            var report = await response.Content.ReadFromJsonAsync<JsonElement>();
            return report.GetProperty("entries").EnumerateArray()
                .Single(e => e.GetProperty("environment").GetString() == "staging" && e.GetProperty("actionKind").GetString() == "restart")
                .GetProperty("trackRecord");
        }, r => r.ValueKind == JsonValueKind.Object && ready(r), Wait, "the staging restart entry of the autonomy report");
}
