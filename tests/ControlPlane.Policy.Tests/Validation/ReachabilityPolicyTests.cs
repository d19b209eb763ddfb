using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using static ControlPlane.Policy.Tests.Validation.DemoImpacts;

namespace ControlPlane.Policy.Tests.Validation;

/// <summary>The default bundle on reachable and unreachable impact, and the reachability conditions.</summary>
public sealed class ReachabilityPolicyTests
{
    private static readonly CompiledPolicy Default = ControlPlane.Policy.Tests.Bundles.Facts.Compile(DefaultBundle.Yaml);

    private static PolicyDecision Decide(PolicyFacts facts) => PolicyEvaluator.Decide(Default, facts, Now);

    [Fact]
    public void The_billing_walk_through_still_needs_its_approver_and_validates_billing_and_its_chosen_dependents_with_reasons()
    {
        var decision = Decide(Facts(Billing()));

        Assert.Equal(DecisionOutcome.RequireApproval, decision.Outcome);
        Assert.Equal(["production-revenue-path-approval", "production-regulated-data-approval", "production-critical-tier-approval"], decision.RulesFired);
        var plan = decision.Plan!;
        Assert.Equal(
            ["billing-api-contract", "billing-ledger-integrity", "billing-admin-smoke", "checkout-e2e", "reporting-billing-export", "gateway-smoke"],
            plan.Suites.Select(s => s.Suite));
        Assert.Equal(["billing-admin-smoke", "reporting-billing-export"], plan.Suites.Where(s => !s.Required).Select(s => s.Suite));
        Assert.Equal(1, plan.Suites.Single(s => s.Suite == "checkout-e2e").Retries);
        Assert.Contains(plan.Suites.Single(s => s.Suite == "gateway-smoke").Reasons,
            r => r.Contains("rule production-critical-tier-approval requires all-tier-0-dependents", StringComparison.Ordinal));
        Assert.Equal("billing-leak-check", Assert.Single(plan.Verifications!).Suite);
        // The plan's suites are the steps, then the rules' hand-listed steps.
        Assert.Equal([.. plan.Suites.Select(s => s.Suite), "unit-tests", "integration-tests"], decision.Validations.Select(v => v.Name));
        Assert.Equal(["billing-leak-check", "verify-service"], decision.Verifications.Select(v => v.Name));
        Assert.True(decision.Validations.Single(v => v.Name == "reporting-billing-export").Advisory);
    }

    [Fact]
    public void The_same_change_gets_less_human_attention_on_an_unreachable_internal_job_than_on_a_reachable_path()
    {
        var unreachable = Decide(Facts(Job(reachable: false)));
        var reachable = Decide(Facts(Job(reachable: true)));

        Assert.Equal(DecisionOutcome.RequireApproval, reachable.Outcome);
        Assert.Contains("production-regulated-data-approval", reachable.RulesFired);
        Assert.Contains(reachable.Reasons, r => r.Contains("regulated data reachable from outside", StringComparison.Ordinal));

        Assert.Equal(DecisionOutcome.Allow, unreachable.Outcome);
        Assert.Null(unreachable.Approval);
        Assert.Equal(["production-low-risk-allow"], unreachable.RulesFired);
        // Unattended, but only after its validation plan: the job's own suite, required.
        var suite = Assert.Single(unreachable.Plan!.Suites);
        Assert.Equal(("ledger-reconciliation-dry-run", true), (suite.Suite, suite.Required));
        Assert.Equal("ledger-reconciliation-dry-run", unreachable.Validations.Single().Name);
    }

    [Fact]
    public void Unknown_reachability_fails_closed_a_report_without_target_nodes_counts_as_reachable()
    {
        var decision = Decide(Facts(Job(reachable: false) with { TargetNodes = null }));

        Assert.Equal(DecisionOutcome.RequireApproval, decision.Outcome);
        Assert.Contains("production-regulated-data-approval", decision.RulesFired);
        Assert.Contains(decision.Reasons, r => r.Contains("reachability unknown: counted as reachable", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("reachable: true", false, false)]
    [InlineData("reachable: false", false, true)]
    [InlineData("reachable: true", true, true)]
    [InlineData("reachable-data-classes-any-of: [regulated]", false, false)]
    [InlineData("reachable-data-classes-any-of: [regulated]", true, true)]
    [InlineData("reachable-dependents-at-least: 3", true, true)]
    [InlineData("reachable-dependents-at-least: 4", true, false)]
    public void Reachability_conditions_hold_on_the_reachable_part_only(string condition, bool billingReachable, bool expected)
    {
        var yaml = $"rules:\n  - id: r\n    match: {{ impact: {{ {condition} }} }}\n    outcome: allow\n";
        var impact = billingReachable ? Billing() : Job(reachable: false);

        var decision = ControlPlane.Policy.Tests.Bundles.Facts.Decide(yaml, Facts(impact));

        Assert.Equal(expected ? DecisionOutcome.Allow : DecisionOutcome.Deny, decision.Outcome);
    }

    [Fact]
    public void Explicit_facts_without_reachability_count_as_reachable_and_get_no_plan()
    {
        var facts = ControlPlane.Policy.Tests.Bundles.Facts.Billing();

        var decision = Decide(facts);

        Assert.Null(decision.Plan);
        Assert.Contains("production-regulated-data-approval", decision.RulesFired);
        Assert.Equal(["unit-tests", "integration-tests"], decision.Validations.Select(v => v.Name));
    }

    [Fact]
    public void The_plan_is_pinned_by_the_decision_and_changes_with_the_graph_version_only_in_its_version()
    {
        var a = Decide(Facts(Billing(version: 7)));
        var b = Decide(Facts(Billing(version: 8)));

        Assert.Equal(CanonicalJson.ToText(a.Plan!.Suites), CanonicalJson.ToText(b.Plan!.Suites));
        Assert.Equal((7L, 8L), (a.Plan.GraphVersion, b.Plan.GraphVersion));
        Assert.NotEqual(CanonicalJson.Hash(a), CanonicalJson.Hash(b));
    }
}
