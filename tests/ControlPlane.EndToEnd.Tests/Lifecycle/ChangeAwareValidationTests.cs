using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.EndToEnd.Tests.Support;
using ControlPlane.Testing;

namespace ControlPlane.EndToEnd.Tests.Lifecycle;

/// <summary>
/// Issue 14 through every real service: the plan comes from the impact on the demo graph, the gate holds until the last
/// required suite passed, and reachability decides how much human attention a change costs.
/// </summary>
[Collection(PlaneCollection.Name)]
public sealed class ChangeAwareValidationTests(Plane plane)
{
    [Fact]
    public async Task The_billing_fix_is_validated_by_a_plan_from_its_impact_and_the_gate_opens_only_after_the_last_required_suite()
    {
        var id = await plane.ProposeAsync(Principals.RemediationAgent, Proposals.BillingFix());
        var waiting = await plane.WaitForStateAsync(id, ProposalState.AwaitingApproval);

        // Billing is reachable from outside through the gateway and checkout.
        var billing = Assert.Single(waiting.Impact!.TargetNodes!);
        Assert.True(billing.Reachable);
        Assert.Equal(["gateway", "checkout", "billing"], billing.ReachablePath);

        var plan = waiting.Decision!.Plan!;
        PlannedSuite Suite(string name) => Assert.Single(plan.Suites, s => s.Suite == name);
        foreach (var own in new[] { "billing-api-contract", "billing-ledger-integrity" })
        {
            Assert.True(Suite(own).Required, own);
            Assert.Contains(Suite(own).Reasons, r => r.Contains("billing", StringComparison.Ordinal));
        }

        // Checkout is the reachable caller: required, and a known-flaky suite gets one visible retry.
        Assert.Equal(("checkout", true, 1), (Suite("checkout-e2e").NodeId, Suite("checkout-e2e").Required, Suite("checkout-e2e").Retries));
        // The unreachable dependents (the VPN admin tool, internal reporting) advise but do not hold the gate.
        Assert.False(Suite("billing-admin-smoke").Required);
        Assert.False(Suite("reporting-billing-export").Required);
        // The gateway, two hops out, is in only because it is tier 0 and the critical-tier rule requires every tier-0 dependent.
        Assert.True(Suite("gateway-smoke").Required);
        Assert.Contains(Suite("gateway-smoke").Reasons, r => r.Contains("requires all-tier-0-dependents", StringComparison.Ordinal));
        Assert.Contains(Suite("billing-api-contract").Reasons, r => r == "target billing declares it");
        // Nothing else the change does not reach: the web app two hops out (tier 1, no regulated data), a node that does not depend on billing.
        Assert.DoesNotContain(plan.Suites, s => s.Suite is "web-app-journeys" or "ledger-reconciliation-dry-run");
        Assert.Contains(plan.Verifications!, s => s.Suite == "billing-leak-check");
        Assert.All(plan.Suites, s => Assert.NotEmpty(s.Reasons));
        // Every planned suite is a step the orchestrator runs, on the suite's fleet.
        Assert.All(plan.Suites, s => Assert.Contains(waiting.Decision.Validations,
            v => v.Name == s.Suite && v.Parameters["command"] == "run-suite" && v.Parameters["node"] == s.NodeId && v.Advisory == !s.Required));

        using (var approver = await plane.ClientAsync(Principals.ProductionApprover, "orchestrator"))
        using (var approved = await approver.PostAsJsonAsync($"proposals/{id}/approvals",
            new { decision = "approve", comment = "Plan reviewed.", proposalHash = waiting.ContentHash, planHash = waiting.PlanHash }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        var completed = await plane.WaitForStateAsync(id, ProposalState.Completed, TimeSpan.FromSeconds(180));
        var validate = Assert.Single(completed.Gates!, g => g.Step == WorkStep.Validate);
        Assert.Equal("open", validate.State);
        var required = completed.Decision!.Validations.Where(v => !v.Advisory).Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        Assert.All(validate.Suites.Where(s => required.Contains(s.Name)), s => Assert.Contains(s.Result, new[] { SuiteResults.Passed, SuiteResults.RetriedThenPassed }));
        Assert.All(validate.Suites.Where(s => required.Contains(s.Name)), s => Assert.False(string.IsNullOrEmpty(s.ResultDigest), s.Name));

        // The gate held: nothing was scheduled before the last required suite had passed.
        var lastRequired = completed.Work.Where(w => w.Step == WorkStep.Validate && required.Contains(w.Name)).Max(w => w.CompletedAt!.Value);
        var scheduledAt = completed.History.First(h => h.To == ProposalState.Scheduled).At;
        Assert.True(scheduledAt >= lastRequired, $"scheduled at {scheduledAt:O}, last required suite passed at {lastRequired:O}");

        var verify = Assert.Single(completed.Gates!, g => g.Step == WorkStep.Verify);
        Assert.Contains(verify.Suites, s => s.Name == "billing-leak-check" && s.Result == SuiteResults.Passed);
    }

    [Fact]
    public async Task A_change_to_an_unreachable_batch_job_runs_unattended_where_the_same_change_on_a_reachable_path_waits_for_a_human()
    {
        object Restart() => Proposals.Body("restart", "Restart the ledger reconciliation job after its config change",
            ["ledger-reconciliation"], "production", "restart the previous version");

        var unattended = await plane.ProposeAsync(Principals.RemediationAgent, Restart());
        var done = await plane.WaitForStateAsync(unattended, ProposalState.Completed, TimeSpan.FromSeconds(120));
        Assert.Equal(DecisionOutcome.Allow, done.Decision!.Outcome);
        Assert.Empty(done.Approvals);
        Assert.False(Assert.Single(done.Impact!.TargetNodes!).Reachable);
        Assert.Contains(done.Decision.Plan!.Suites, s => s.Suite == "ledger-reconciliation-dry-run" && s.Required);
        Assert.Contains(done.Work, w => w.Name == "ledger-reconciliation-dry-run" && w.Outcome == "succeeded");

        // The same job, now exposed: a public route reaches it, so its regulated data is reachable.
        using var graph = await plane.ClientAsync(Principals.Admin, "system-graph");
        const string edge = "graph/edges?from=gateway&to=ledger-reconciliation&kind=calls";
        using (var put = await graph.PutAsJsonAsync("graph/edges", new { from = "gateway", to = "ledger-reconciliation", kind = "calls", flow = "public-ingress" }))
        {
            Assert.True(put.IsSuccessStatusCode, $"PUT /graph/edges: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
        }

        Guid attended = default;
        try
        {
            await Eventually.UntilAsync(
                async () => JsonDocument.Parse(await graph.GetStringAsync("graph/reachability")).RootElement.GetProperty("reachable")
                    .EnumerateArray().Any(n => n.GetProperty("nodeId").GetString() == "ledger-reconciliation"),
                reachable => reachable, TimeSpan.FromSeconds(30), "the exposed job to be reachable");

            attended = await plane.ProposeAsync(Principals.RemediationAgent, Restart());
            var waiting = await plane.WaitForStateAsync(attended, ProposalState.AwaitingApproval);
            Assert.Contains("production-regulated-data-approval", waiting.Decision!.RulesFired);
            Assert.Equal(["gateway", "ledger-reconciliation"], Assert.Single(waiting.Impact!.TargetNodes!).ReachablePath);
        }
        finally
        {
            using var removed = await graph.DeleteAsync(edge);
            Assert.True(removed.IsSuccessStatusCode, $"DELETE /{edge}: {(int)removed.StatusCode}");
            if (attended != default)
            {
                using var approver = await plane.ClientAsync(Principals.ProductionApprover, "orchestrator");
                using var rejected = await approver.PostAsJsonAsync($"proposals/{attended}/approvals", new { decision = "reject", comment = "test done" });
            }
        }
    }
}
