using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using static ControlPlane.Policy.Tests.Bundles.Facts;

namespace ControlPlane.Policy.Tests.Bundles;

/// <summary>The product's stance as shipped (Bundles/default-bundle.yaml). The rule ids are part of the contract.</summary>
public sealed class DefaultBundleTests
{
    private static readonly CompiledPolicy Default = Compile(DefaultBundle.Yaml);

    private static PolicyDecision Decide(PolicyFacts facts) => PolicyEvaluator.Decide(Default, facts, Now);

    [Fact]
    public void The_default_bundle_parses_and_has_the_documented_rule_ids()
    {
        Assert.Equal(
        [
            "dev-autonomous", "staging-low-risk-autonomous", "staging-critical-tier-approval", "staging-wide-blast-radius-approval",
            "staging-unknown-targets-approval", "production-low-risk-allow", "production-revenue-path-approval",
            "production-regulated-data-approval", "production-critical-tier-approval", "production-wide-blast-radius-approval",
            "production-unknown-targets-approval", "deny-destructive-regulated-without-rollback",
        ], Default.Bundle.Rules.Select(r => r.Id));
    }

    [Fact]
    public void A_low_risk_action_in_dev_is_allowed_unattended()
    {
        var decision = Decide(LowRisk(environment: "dev"));

        Assert.Equal(DecisionOutcome.Allow, decision.Outcome);
        Assert.Equal(["dev-autonomous"], decision.RulesFired);
    }

    [Fact]
    public void Even_a_billing_change_in_dev_runs_unattended()
    {
        Assert.Equal(DecisionOutcome.Allow, Decide(Billing(environment: "dev")).Outcome);
    }

    [Fact]
    public void A_billing_change_in_production_needs_one_approver_within_4h_with_reasons_naming_revenue_path_and_regulated_data()
    {
        var decision = Decide(Billing());

        Assert.Equal(DecisionOutcome.RequireApproval, decision.Outcome);
        Assert.Equal(["production-revenue-path-approval", "production-regulated-data-approval", "production-critical-tier-approval"], decision.RulesFired);
        Assert.Contains(decision.Reasons, r => r.Contains("revenue path", StringComparison.Ordinal));
        Assert.Contains(decision.Reasons, r => r.Contains("regulated", StringComparison.Ordinal));
        Assert.Equal(1, decision.Approval!.Count);
        Assert.Equal(["approver"], decision.Approval.Roles);
        Assert.Equal(TimeSpan.FromHours(4), decision.Approval.ExpiresAfter);
        Assert.Equal(["unit-tests", "integration-tests"], decision.Validations.Select(v => v.Name));
        Assert.All(decision.Validations, v => Assert.Equal("run-command", v.ActionKind));
        Assert.Equal(("verify-service", "run-command"), (decision.Verifications.Single().Name, decision.Verifications.Single().ActionKind));
    }

    [Fact]
    public void A_destructive_action_on_regulated_data_without_a_rollback_plan_is_denied_by_the_named_rule()
    {
        foreach (var environment in new[] { "dev", "staging", "production" })
        {
            var decision = Decide(Billing(action: "drop-table", environment: environment, rollbackPlan: false));

            Assert.Equal(DecisionOutcome.Deny, decision.Outcome);
            Assert.Contains("deny-destructive-regulated-without-rollback", decision.RulesFired);
            Assert.StartsWith("deny-destructive-regulated-without-rollback: ", Assert.Single(decision.Reasons), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void With_a_rollback_plan_the_destructive_action_is_not_denied_by_that_rule()
    {
        var decision = Decide(Billing(action: "purge", rollbackPlan: true));

        Assert.DoesNotContain("deny-destructive-regulated-without-rollback", decision.RulesFired);
        Assert.Equal(DecisionOutcome.RequireApproval, decision.Outcome);
    }

    [Fact]
    public void A_destructive_action_without_regulated_data_is_not_denied()
    {
        var decision = Decide(LowRisk(action: "delete", environment: "dev") with { RollbackPlanPresent = false });

        Assert.Equal(DecisionOutcome.Allow, decision.Outcome);
    }

    [Fact]
    public void Staging_is_autonomous_below_the_risk_threshold_and_needs_an_approver_above_it()
    {
        var low = Decide(LowRisk(environment: "staging") with { Dependents = 4 });
        var critical = Decide(LowRisk(environment: "staging") with { HighestCriticality = 1 });
        var wide = Decide(LowRisk(environment: "staging") with { Dependents = 5 });
        var unknown = Decide(LowRisk(environment: "staging") with { UnknownTargets = true, HighestCriticality = null });

        Assert.Equal(DecisionOutcome.Allow, low.Outcome);
        Assert.Equal(["staging-low-risk-autonomous"], low.RulesFired);
        Assert.Equal(["staging-critical-tier-approval"], critical.RulesFired);
        Assert.Equal(1, critical.Approval!.Count);
        Assert.Equal(["staging-wide-blast-radius-approval"], wide.RulesFired);
        Assert.Equal(["staging-unknown-targets-approval"], unknown.RulesFired);
        Assert.All([critical, wide, unknown], d => Assert.Equal(DecisionOutcome.RequireApproval, d.Outcome));
    }

    [Fact]
    public void Low_risk_production_runs_unattended_with_a_verification()
    {
        var decision = Decide(LowRisk(environment: "production"));

        Assert.Equal(DecisionOutcome.Allow, decision.Outcome);
        Assert.Equal(["production-low-risk-allow"], decision.RulesFired);
        Assert.Empty(decision.Validations);
        Assert.Equal("verify-service", decision.Verifications.Single().Name);
    }

    [Fact]
    public void Production_needs_an_approver_for_tier_0_or_1_a_wide_blast_radius_or_unknown_targets()
    {
        Assert.Equal(["production-critical-tier-approval"], Decide(LowRisk(environment: "production") with { HighestCriticality = 1 }).RulesFired);
        Assert.Equal(["production-wide-blast-radius-approval"], Decide(LowRisk(environment: "production") with { HighestCriticality = 2, Dependents = 11 }).RulesFired);
        Assert.Equal(["production-unknown-targets-approval"], Decide(LowRisk(environment: "production") with { UnknownTargets = true, HighestCriticality = null }).RulesFired);
    }

    [Fact]
    public void An_environment_the_bundle_does_not_know_is_denied()
    {
        var decision = Decide(LowRisk(environment: "qa"));

        Assert.Equal(DecisionOutcome.Deny, decision.Outcome);
        Assert.Equal(["no rule matched"], decision.Reasons);
    }
}
