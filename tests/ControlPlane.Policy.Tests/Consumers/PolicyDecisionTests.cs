using ControlPlane.Contracts;
using ControlPlane.Testing;

namespace ControlPlane.Policy.Tests.Consumers;

[Collection(PolicyCollection.Name)]
public sealed class PolicyDecisionTests(PolicyFixture fixture)
{
    private const string Queue = "policy-impact-assessed";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static ImpactAssessed Assessed(string action, string environment, string? rollbackPlan, ImpactReport impact)
    {
        var proposal = new ProposalSubmitted(Guid.NewGuid(), "sha256:" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()), "remediation-agent",
            "sam@example.com", "remediation", new ProposedAction(action, $"{action} billing", new Dictionary<string, string>()), ["billing"], environment,
            new ChangeReference("sha256:beef", "git@example.com:billing.git#v2", rollbackPlan), DateTimeOffset.UtcNow);
        return new ImpactAssessed(proposal.ProposalId, proposal, impact);
    }

    /// <summary>What system-graph reports for billing in the demo graph.</summary>
    private static ImpactReport BillingImpact(long version) => new(
        version, ["billing"],
        [
            new ImpactedNode("checkout", 1, ["billing", "checkout"], 1, "payments", true, ["pii"], false),
            new ImpactedNode("reporting", 1, ["billing", "reporting"], 3, "analytics", false, ["pii"], false),
            new ImpactedNode("gateway", 2, ["billing", "checkout", "gateway"], 0, "platform", false, ["public"], true),
            new ImpactedNode("web-app", 2, ["billing", "checkout", "web-app"], 1, "web", false, ["pii"], false),
        ],
        0, ["pci", "pii", "public", "regulated"], true, true, ["analytics", "payments", "platform", "web"], [],
        ["touches revenue path via checkout → billing", "regulated data: billing"], DateTimeOffset.UtcNow);

    [Fact]
    public async Task An_ImpactAssessed_delivered_twice_gives_exactly_one_PolicyDecided_requiring_approval_for_billing()
    {
        var assessed = Assessed("deploy", "production", "redeploy v1", BillingImpact(version: 42));
        var messageId = Guid.NewGuid();

        var acknowledged = await fixture.Plane.Vhost.AcknowledgedAsync(Queue);
        await fixture.Bus.PublishAsync(assessed, messageId);
        await fixture.Bus.PublishAsync(assessed, messageId);

        var decided = await Eventually.UntilAsync(() => Task.FromResult(fixture.Bus.Received<PolicyDecided>().Where(d => d.Message.ProposalId == assessed.ProposalId).ToList()),
            d => d.Count >= 1, Wait, "PolicyDecided for the billing proposal");
        await fixture.Plane.WaitUntilSettledAsync(Queue, acknowledged, deliveries: 2, Wait);

        Assert.Single(fixture.Bus.Received<PolicyDecided>(), d => d.Message.ProposalId == assessed.ProposalId);
        Assert.Equal(1, await fixture.Plane.CountAsync($"select count(*) from policy_decisions where proposal_id = '{assessed.ProposalId}'"));
        var message = decided[0].Message;
        Assert.Equal(assessed.Proposal.ContentHash, message.ContentHash);
        Assert.Equal(42, message.GraphVersion);
        Assert.Equal(DecisionOutcome.RequireApproval, message.Decision.Outcome);
        Assert.Contains("production-revenue-path-approval", message.Decision.RulesFired);
        Assert.Contains("production-regulated-data-approval", message.Decision.RulesFired);
        Assert.Equal(1, message.Decision.Approval!.Count);
        Assert.Equal(TimeSpan.FromHours(4), message.Decision.Approval.ExpiresAfter);
        Assert.Equal(["unit-tests", "integration-tests"], message.Decision.Validations.Select(v => v.Name));
        Assert.StartsWith("sha256:", message.Decision.BundleHash, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reachable_billing_impact_is_decided_with_its_validation_plan_on_the_bus_and_in_the_stored_decision()
    {
        var assessed = Assessed("deploy", "production", "redeploy v1", Validation.DemoImpacts.Billing(version: 44));

        await fixture.Bus.PublishAsync(assessed, Guid.NewGuid());

        var decided = await Eventually.UntilAsync(() => Task.FromResult(fixture.Bus.Received<PolicyDecided>().Where(d => d.Message.ProposalId == assessed.ProposalId).ToList()),
            d => d.Count >= 1, Wait, "PolicyDecided for the reachable billing proposal");
        var decision = decided[0].Message.Decision;
        Assert.Equal(DecisionOutcome.RequireApproval, decision.Outcome);
        Assert.Equal(44, decision.Plan!.GraphVersion);
        Assert.Equal(["billing-api-contract", "billing-ledger-integrity", "billing-admin-smoke", "checkout-e2e", "reporting-billing-export", "gateway-smoke", "unit-tests", "integration-tests"],
            decision.Validations.Select(v => v.Name));
        var checkout = decision.Validations.Single(v => v.Name == "checkout-e2e");
        Assert.Equal(("run-suite", "checkout", "testing", 1), (checkout.Parameters["command"], checkout.Parameters["node"], checkout.Parameters["fleet"], checkout.Retries));
        Assert.Equal(["billing-leak-check", "verify-service"], decision.Verifications.Select(v => v.Name));
        Assert.Equal(1, await fixture.Plane.CountAsync(
            $"select count(*) from policy_decisions where proposal_id = '{assessed.ProposalId}' and decision->'plan'->'suites' @> '[{{\"suite\": \"checkout-e2e\", \"required\": true}}]'"));
    }

    [Fact]
    public async Task A_destructive_action_on_regulated_data_without_a_rollback_plan_is_denied_with_the_rule_id()
    {
        var assessed = Assessed("drop-table", "production", rollbackPlan: null, BillingImpact(version: 43));

        await fixture.Bus.PublishAsync(assessed, Guid.NewGuid());

        var decided = await Eventually.UntilAsync(() => Task.FromResult(fixture.Bus.Received<PolicyDecided>().Where(d => d.Message.ProposalId == assessed.ProposalId).ToList()),
            d => d.Count >= 1, Wait, "PolicyDecided for the destructive proposal");
        Assert.Equal(DecisionOutcome.Deny, decided[0].Message.Decision.Outcome);
        Assert.Contains("deny-destructive-regulated-without-rollback", decided[0].Message.Decision.RulesFired);
    }

    [Fact]
    public async Task A_low_risk_action_in_dev_is_allowed()
    {
        var impact = new ImpactReport(5, ["reporting"], [], 3, ["pii"], false, false, ["analytics"], [], ["no transitive dependents"], DateTimeOffset.UtcNow);
        var assessed = Assessed("restart", "dev", "restart again", impact);

        await fixture.Bus.PublishAsync(assessed, Guid.NewGuid());

        var decided = await Eventually.UntilAsync(() => Task.FromResult(fixture.Bus.Received<PolicyDecided>().Where(d => d.Message.ProposalId == assessed.ProposalId).ToList()),
            d => d.Count >= 1, Wait, "PolicyDecided for the dev proposal");
        Assert.Equal(DecisionOutcome.Allow, decided[0].Message.Decision.Outcome);
        Assert.Equal(["dev-autonomous"], decided[0].Message.Decision.RulesFired);
    }
}
