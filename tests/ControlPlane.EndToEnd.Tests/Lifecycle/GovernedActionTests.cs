using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Cli.Commands;
using ControlPlane.Contracts;
using ControlPlane.EndToEnd.Tests.Support;
using ControlPlane.Testing;
using Spectre.Console;

namespace ControlPlane.EndToEnd.Tests.Lifecycle;

/// <summary>Issues 3 and 4: the governed action from proposal to verified completion, through every real service.</summary>
[Collection(PlaneCollection.Name)]
public sealed class GovernedActionTests(Plane plane)
{
    [Fact]
    public async Task A_low_risk_dev_action_is_authorized_without_a_human_and_runs_unattended_to_completed()
    {
        var id = await plane.ProposeAsync(Principals.RemediationAgent,
            Proposals.Body("restart", "Restart search to pick up the new synonyms file", ["search"], "dev", "restart again"));

        var authorized = await plane.WaitForStateAsync(id, ProposalState.Completed, TimeSpan.FromSeconds(60));

        Assert.Equal(DecisionOutcome.Allow, authorized.Decision!.Outcome);
        Assert.Contains("dev-autonomous", authorized.Decision.RulesFired);
        Assert.Empty(authorized.Approvals);
        var path = authorized.History.Select(h => h.To).ToList();
        Assert.Equal(
            [ProposalState.Submitted, ProposalState.Assessing, ProposalState.Authorized, ProposalState.Scheduled, ProposalState.Executing, ProposalState.Verifying, ProposalState.Completed],
            path.Distinct().ToList());
        var authorizedAt = authorized.History.First(h => h.To == ProposalState.Authorized).At;
        Assert.True(authorizedAt - authorized.History[0].At < TimeSpan.FromSeconds(10), $"authorized after {(authorizedAt - authorized.History[0].At).TotalSeconds:0.0} s");
        var execution = Assert.Single(authorized.Work, w => w.Step == WorkStep.Execute);
        Assert.Equal("succeeded", execution.Outcome);
    }

    [Fact]
    public async Task The_billing_fix_waits_for_the_production_approver_then_validates_executes_verifies_and_its_evidence_bundle_verifies()
    {
        var id = await plane.ProposeAsync(Principals.RemediationAgent, Proposals.BillingFix());

        var waiting = await plane.WaitForStateAsync(id, ProposalState.AwaitingApproval);
        Assert.True(waiting.Impact!.RevenuePath);
        Assert.Contains("regulated", waiting.Impact.DataClasses);
        Assert.Contains(waiting.Decision!.Reasons, r => r.Contains("revenue path", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(waiting.Decision.Reasons, r => r.Contains("regulated", StringComparison.OrdinalIgnoreCase));
        // The plan's suites come first (ChangeAwareValidationTests reads them), then the steps the rules list by hand.
        Assert.Equal(["unit-tests", "integration-tests"], waiting.Decision.Validations.Select(v => v.Name).TakeLast(2));
        var steps = waiting.Decision.Validations.Concat(waiting.Decision.Verifications).Select(s => s.Name).Append("execute").Order(StringComparer.Ordinal).ToList();

        // Nobody but a production approver gets through.
        foreach (var (who, audience) in new[]
        {
            (Principals.Viewer, "orchestrator"), (Principals.RemediationAgent, "orchestrator"),
            (Principals.RemediationSponsor, "orchestrator"), (Principals.StagingApprover, "orchestrator"),
        })
        {
            using var client = await plane.ClientAsync(who, audience);
            using var refused = await client.PostAsJsonAsync($"proposals/{id}/approvals", new { decision = "approve", comment = "lgtm" });
            Assert.True(refused.StatusCode == HttpStatusCode.Forbidden, $"{who} approving: {(int)refused.StatusCode}");
        }

        using (var approver = await plane.ClientAsync(Principals.ProductionApprover, "orchestrator"))
        using (var approved = await approver.PostAsJsonAsync($"proposals/{id}/approvals",
            new { decision = "approve", comment = "Heap graphs confirm the leak; fix reviewed.", proposalHash = waiting.ContentHash, planHash = waiting.PlanHash }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        var completed = await plane.WaitForStateAsync(id, ProposalState.Completed, TimeSpan.FromSeconds(120));
        var states = completed.History.Select(h => h.To).Distinct().ToList();
        Assert.Equal(
            [ProposalState.Submitted, ProposalState.Assessing, ProposalState.AwaitingApproval, ProposalState.Authorized, ProposalState.Validating,
             ProposalState.Scheduled, ProposalState.Executing, ProposalState.Verifying, ProposalState.Completed],
            states);
        var approval = Assert.Single(completed.Approvals);
        Assert.Equal((Principals.ProductionApprover, completed.ContentHash, completed.Decision!.BundleHash), (approval.ApproverId, approval.ProposalHash, approval.PolicyHash));
        Assert.Equal(steps, completed.Work.Select(w => w.Name).Order(StringComparer.Ordinal));
        Assert.All(completed.Work, w => Assert.Equal("succeeded", w.Outcome));
        var deployed = Directory.GetFiles(plane.RunnerStates, "billing.deploys", SearchOption.AllDirectories);
        Assert.Contains(id.ToString(), await File.ReadAllTextAsync(Assert.Single(deployed)), StringComparison.Ordinal);

        // Evidence: every step of the chain, in the order the events happened, and a bundle that verifies offline with
        // the CLI. The order is each record's own time: services' events reach the log by separate routes and are
        // appended side by side, so log positions of different services' records need not follow cause and effect.
        using var auditor = await plane.ClientAsync(Principals.Auditor, "evidence");
        var records = await Eventually.UntilAsync(
            async () => JsonDocument.Parse(await auditor.GetStringAsync($"evidence/proposals/{id}")).RootElement.GetProperty("records")
                .EnumerateArray().Select(r => (Kind: r.GetProperty("kind").GetString()!, At: DateTimeOffset.Parse(r.GetProperty("occurredAt").GetString()!, CultureInfo.InvariantCulture))).ToList(),
            r => r.Count(x => x.Kind == nameof(WorkCompleted)) == steps.Count && r.Count(x => x.Kind == nameof(ProposalStateChanged) && x.At >= r.Where(w => w.Kind == nameof(WorkCompleted)).Max(w => w.At)) > 0,
            TimeSpan.FromSeconds(30), "the evidence of every step");
        DateTimeOffset First(string kind) => records.Where(r => r.Kind == kind).Min(r => r.At);
        Assert.True(First(nameof(ProposalSubmitted)) <= First(nameof(ImpactAssessed)));
        Assert.True(First(nameof(ImpactAssessed)) <= First(nameof(PolicyDecided)));
        Assert.True(First(nameof(PolicyDecided)) <= First(nameof(ApprovalRecorded)));
        Assert.True(First(nameof(ApprovalRecorded)) <= First(nameof(WorkPackageIssued)), $"approval at {First(nameof(ApprovalRecorded)):O}, first work package at {First(nameof(WorkPackageIssued)):O}");
        Assert.Equal(steps.Count, records.Count(r => r.Kind == nameof(WorkPackageIssued)));

        var bundlePath = Path.Combine(Path.GetTempPath(), $"cpt-bundle-{id}.json");
        try
        {
            await File.WriteAllTextAsync(bundlePath, await auditor.GetStringAsync($"evidence/proposals/{id}/bundle"));
            var output = new StringWriter();
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No });
            var exit = EvidenceVerifyCommand.Run(await File.ReadAllBytesAsync(bundlePath), null, console);
            Assert.True(exit == EvidenceVerifyCommand.Verified, output.ToString());
        }
        finally
        {
            File.Delete(bundlePath);
        }

        var chain = JsonDocument.Parse(await auditor.GetStringAsync("evidence/chain/verify")).RootElement;
        Assert.True(chain.GetProperty("ok").GetBoolean(), chain.ToString());
    }

    [Fact]
    public async Task A_rejection_by_the_approver_ends_the_proposal_as_rejected()
    {
        var id = await plane.ProposeAsync(Principals.RemediationAgent, Proposals.BillingFix());
        await plane.WaitForStateAsync(id, ProposalState.AwaitingApproval);

        using var approver = await plane.ClientAsync(Principals.ProductionApprover, "orchestrator");
        using var rejected = await approver.PostAsJsonAsync($"proposals/{id}/approvals", new { decision = "reject", comment = "Not during the quarter close." });

        Assert.Equal(HttpStatusCode.OK, rejected.StatusCode);
        var view = await plane.WaitForStateAsync(id, ProposalState.Rejected);
        Assert.Equal(ApprovalDecision.Reject, Assert.Single(view.Approvals).Decision);
        Assert.DoesNotContain(view.Work, w => w.Step == WorkStep.Execute);
    }

    [Fact]
    public async Task A_destructive_action_on_regulated_data_without_a_rollback_plan_is_denied_by_the_named_rule()
    {
        var id = await plane.ProposeAsync(Principals.RemediationAgent,
            Proposals.Body("purge", "Purge stale ledger partitions", ["ledger-db"], "production", rollbackPlan: null));

        var denied = await plane.WaitForStateAsync(id, ProposalState.Denied);

        Assert.Equal(DecisionOutcome.Deny, denied.Decision!.Outcome);
        Assert.Contains("deny-destructive-regulated-without-rollback", denied.Decision.RulesFired);
        Assert.Empty(denied.Work);
    }

    [Fact]
    public async Task The_same_idempotency_key_gives_one_proposal_and_another_body_under_it_is_a_conflict()
    {
        var key = $"leak-fix-{Guid.NewGuid():N}";
        using var agent = await plane.ClientAsync(Principals.RemediationAgent, "orchestrator");

        using var first = await agent.PostAsJsonAsync("proposals", Proposals.BillingFix(key), ContractJson.Options);
        using var again = await agent.PostAsJsonAsync("proposals", Proposals.BillingFix(key), ContractJson.Options);
        using var other = await agent.PostAsJsonAsync("proposals",
            Proposals.Body("restart", "Something else entirely", ["search"], "dev", null, key), ContractJson.Options);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(first.Headers.Location, again.Headers.Location);
        var id = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
        Assert.Equal(id, JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid());
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.Equal("application/problem+json", other.Content.Headers.ContentType?.MediaType);

        await plane.WaitForStateAsync(id, ProposalState.AwaitingApproval);
        using var approver = await plane.ClientAsync(Principals.ProductionApprover, "orchestrator");
        using var _ = await approver.PostAsJsonAsync($"proposals/{id}/approvals", new { decision = "reject", comment = "test cleanup" });
    }

    [Fact]
    public async Task An_approval_window_that_passes_ends_the_proposal_as_expired()
    {
        const string bundle = """
            rules:
              - id: staging-scale-needs-a-quick-approval
                description: Scaling staging needs an approver within seconds
                match: { environments: [staging], actions: [scale] }
                outcome: require-approval
                approval: { count: 1, roles: [approver], expiry: 3s }
            """;
        await Proposals.WithPolicyAsync(plane, bundle, async () =>
        {
            var id = await plane.ProposeAsync(Principals.RemediationAgent,
                Proposals.Body("scale", "Scale search to 4 replicas", ["search"], "staging", "scale back to 2"));

            var expired = await plane.WaitForStateAsync(id, ProposalState.Expired, TimeSpan.FromSeconds(30));

            Assert.Contains("staging-scale-needs-a-quick-approval", expired.Decision!.RulesFired);
            Assert.Empty(expired.Approvals);
        });
    }

    [Fact]
    public async Task A_failing_validation_stops_the_proposal_before_anything_executes()
    {
        const string bundle = """
            rules:
              - id: dev-with-a-flaky-gate
                description: Dev changes are validated by a check that fails
                match: { environments: [dev] }
                outcome: allow
                validations:
                  - { name: flaky-check, action: run-command, parameters: { command: flaky-check } }
            """;
        await Proposals.WithPolicyAsync(plane, bundle, async () =>
        {
            var id = await plane.ProposeAsync(Principals.RemediationAgent,
                Proposals.Body("restart", "Restart notifications", ["notifications"], "dev", "restart again"));

            var failed = await plane.WaitForStateAsync(id, ProposalState.Failed, TimeSpan.FromSeconds(60));

            var validation = Assert.Single(failed.Work);
            Assert.Equal((WorkStep.Validate, "failed"), (validation.Step, validation.Outcome));
            Assert.DoesNotContain(failed.History, h => h.To == ProposalState.Executing);
        });
    }

    [Fact]
    public async Task A_failing_verification_fails_the_proposal_and_runs_its_rollback_as_its_own_package()
    {
        const string bundle = """
            rules:
              - id: dev-verified-by-a-flaky-check
                description: Dev changes are verified by a check that fails
                match: { environments: [dev] }
                outcome: allow
                verifications:
                  - { name: flaky-check, action: run-command, parameters: { command: flaky-check } }
            """;
        await Proposals.WithPolicyAsync(plane, bundle, async () =>
        {
            var id = await plane.ProposeAsync(Principals.RemediationAgent,
                Proposals.Body("deploy", "Deploy the new email templates", ["notifications"], "dev", "Redeploy the previous notifications image"));

            var failed = await plane.WaitForStateAsync(id, ProposalState.Failed, TimeSpan.FromSeconds(60));
            var rolledBack = await Eventually.UntilAsync(() => plane.GetProposalAsync(id),
                p => p.Work.Any(w => w.Step == WorkStep.Rollback && w.Outcome is not null), TimeSpan.FromSeconds(30), "the rollback to report");

            Assert.Equal("succeeded", rolledBack.Work.Single(w => w.Step == WorkStep.Execute).Outcome);
            Assert.Equal("failed", rolledBack.Work.Single(w => w.Step == WorkStep.Verify).Outcome);
            Assert.Equal("succeeded", rolledBack.Work.Single(w => w.Step == WorkStep.Rollback).Outcome);
            Assert.NotEmpty(Directory.GetFiles(plane.RunnerStates, "notifications.rollbacks", SearchOption.AllDirectories));
            Assert.Equal(ProposalState.Failed, failed.State);
        });
    }

    [Fact]
    public async Task The_lifecycle_survives_a_restart_of_orchestrator_while_it_waits_for_a_human()
    {
        var id = await plane.ProposeAsync(Principals.RemediationAgent, Proposals.BillingFix());
        await plane.WaitForStateAsync(id, ProposalState.AwaitingApproval);

        await plane.RestartOrchestratorAsync();

        using (var approver = await plane.ClientAsync(Principals.ProductionApprover, "orchestrator"))
        using (var approved = await approver.PostAsJsonAsync($"proposals/{id}/approvals", new { decision = "approve", comment = "after the restart" }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        var completed = await plane.WaitForStateAsync(id, ProposalState.Completed, TimeSpan.FromSeconds(120));
        var steps = completed.Decision!.Validations.Concat(completed.Decision.Verifications).Select(s => s.Name).Append("execute").Order(StringComparer.Ordinal);
        Assert.Equal(steps, completed.Work.Where(w => w.Outcome == "succeeded").Select(w => w.Name).Order(StringComparer.Ordinal));
    }
}
