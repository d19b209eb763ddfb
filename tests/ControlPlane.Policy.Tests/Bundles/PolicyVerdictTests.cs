using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using static ControlPlane.Policy.Tests.Bundles.Facts;

namespace ControlPlane.Policy.Tests.Bundles;

/// <summary>The verdict: the decision's outcome and fired rules without its words, written to the caller's span.</summary>
public sealed class PolicyVerdictTests
{
    private const string Layered = """
        rules:
          - id: allow-all
            outcome: allow
          - id: approve-revenue
            match: { impact: { revenue-path: true } }
            outcome: require-approval
            approval: { count: 1, roles: [approver], expiry: 4h }
          - id: approve-regulated
            match: { impact: { data-classes-any-of: [regulated] } }
            outcome: require-approval
            approval: { count: 2, roles: [operator], expiry: 1h }
          - id: deny-drop
            match: { actions: [drop] }
            outcome: deny
        """;

    public static TheoryData<string, PolicyFacts, DecisionOutcome, string[], string[]> Precedence => new()
    {
        { "allow alone", LowRisk(), DecisionOutcome.Allow, ["allow-all"], ["allow-all"] },
        { "require-approval over allow", Billing(), DecisionOutcome.RequireApproval, ["allow-all", "approve-revenue", "approve-regulated"], ["approve-revenue", "approve-regulated"] },
        { "deny over require-approval", Billing(action: "drop"), DecisionOutcome.Deny, ["allow-all", "approve-revenue", "approve-regulated", "deny-drop"], ["deny-drop"] },
        { "deny over allow", LowRisk(action: "drop"), DecisionOutcome.Deny, ["allow-all", "deny-drop"], ["deny-drop"] },
    };

    [Theory]
    [MemberData(nameof(Precedence))]
    public void Deny_overrides_require_approval_overrides_allow_and_the_deciding_rules_are_those_with_the_outcome(
        string name, PolicyFacts facts, DecisionOutcome outcome, string[] fired, string[] deciding)
    {
        var policy = Compile(Layered);
        var indexes = new int[policy.RuleCount];

        var verdict = PolicyEvaluator.Verdict(policy, facts, indexes);

        Assert.True(verdict.HasBundle, name);
        Assert.Equal(outcome, verdict.Outcome);
        Assert.Equal(fired, indexes[..verdict.Fired].Select(policy.RuleId));
        Assert.Equal(deciding, indexes[..verdict.Fired].Where(r => verdict.IsDeciding(policy, r)).Select(policy.RuleId));
        Assert.Equal(deciding.Length, verdict.Deciding);
        Assert.False(verdict.NoRuleMatched);
    }

    [Theory]
    [MemberData(nameof(Precedence))]
    public void The_outcome_and_fired_ids_are_those_of_the_decision(string name, PolicyFacts facts, DecisionOutcome outcome, string[] fired, string[] deciding)
    {
        var policy = Compile(Layered);
        var decision = PolicyEvaluator.Decide(policy, facts, Now);

        var (actual, rulesFired) = PolicyEvaluator.Outcome(policy, facts);

        Assert.Equal(decision.Outcome, actual);
        Assert.Equal(outcome, actual);
        Assert.Equal(decision.RulesFired, rulesFired);
        Assert.Equal(fired, rulesFired);
        Assert.Equal(deciding.Length, decision.Reasons.Count);
        var noBundle = PolicyEvaluator.Outcome(null, facts);
        Assert.True(noBundle.Outcome == DecisionOutcome.Deny && noBundle.RulesFired.Length == 0, name);
    }

    [Fact]
    public void No_bundle_is_a_deny_with_nothing_fired()
    {
        var indexes = new[] { -1 };

        var verdict = PolicyEvaluator.Verdict(null, LowRisk(), indexes);

        Assert.Equal(PolicyVerdict.NoBundle, verdict);
        Assert.Equal(DecisionOutcome.Deny, verdict.Outcome);
        Assert.False(verdict.HasBundle);
        Assert.Equal(0, verdict.Fired);
        Assert.False(verdict.NoRuleMatched);
        Assert.Equal(-1, indexes[0]);
    }

    [Fact]
    public void No_rule_firing_is_a_deny_with_nothing_fired()
    {
        var policy = Compile("rules: [{ id: dev-only, match: { environments: [dev] }, outcome: allow }]");

        var verdict = PolicyEvaluator.Verdict(policy, LowRisk(environment: "production"), new int[policy.RuleCount]);

        Assert.Equal(DecisionOutcome.Deny, verdict.Outcome);
        Assert.True(verdict.NoRuleMatched);
        Assert.Equal(0, verdict.Fired);
        Assert.Equal(0, verdict.Deciding);
    }

    [Fact]
    public void A_span_shorter_than_the_bundle_is_refused()
    {
        var policy = Compile(Layered);

        Assert.Throws<ArgumentException>(() => PolicyEvaluator.Verdict(policy, LowRisk(), new int[policy.RuleCount - 1]));
    }

    [Fact]
    public void A_verdict_allocates_nothing_whether_rules_fire_or_not()
    {
        var policy = Compile(Layered);
        var indexes = new int[policy.RuleCount];
        PolicyFacts[] cases = [Billing(), Billing(action: "drop"), LowRisk(environment: "production", action: "none") with { AgentId = null }];
        foreach (var facts in cases)
        {
            PolicyEvaluator.Verdict(policy, facts, indexes);
        }

        foreach (var facts in cases)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var verdict = PolicyEvaluator.Verdict(policy, facts, indexes);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.Equal(0, allocated);
            Assert.True(verdict.HasBundle);
        }
    }
}
