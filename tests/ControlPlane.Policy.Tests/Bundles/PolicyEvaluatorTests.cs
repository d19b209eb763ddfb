using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using static ControlPlane.Policy.Tests.Bundles.Facts;

namespace ControlPlane.Policy.Tests.Bundles;

public sealed class PolicyEvaluatorTests
{
    private const string Layered = """
        rules:
          - id: allow-all
            outcome: allow
            validations: [{ name: lint, action: run-command, parameters: { command: lint } }]
            verifications: [{ name: health, action: http-check, parameters: { path: /health } }]
          - id: approve-revenue
            match: { impact: { revenue-path: true } }
            outcome: require-approval
            approval: { count: 1, roles: [approver], expiry: 4h }
            validations:
              - { name: unit-tests, action: run-command, parameters: { command: unit-tests } }
              - { name: lint, action: run-command, parameters: { command: lint-strict } }
          - id: approve-regulated
            match: { impact: { data-classes-any-of: [regulated] } }
            outcome: require-approval
            approval: { count: 2, roles: [operator, approver], expiry: 1h }
            validations: [{ name: integration-tests, action: run-command, parameters: { command: integration-tests } }]
          - id: deny-drop
            match: { actions: [drop] }
            outcome: deny
        """;

    [Fact]
    public void Allow_alone_allows_with_the_steps_of_the_rule()
    {
        var decision = Decide(Layered, LowRisk());

        Assert.Equal(DecisionOutcome.Allow, decision.Outcome);
        Assert.Equal(["allow-all"], decision.RulesFired);
        Assert.Null(decision.Approval);
        Assert.Equal(["lint"], decision.Validations.Select(v => v.Name));
        Assert.Equal(["health"], decision.Verifications.Select(v => v.Name));
    }

    [Fact]
    public void Require_approval_overrides_allow_and_approvals_combine()
    {
        var decision = Decide(Layered, Billing());

        Assert.Equal(DecisionOutcome.RequireApproval, decision.Outcome);
        Assert.Equal(["allow-all", "approve-revenue", "approve-regulated"], decision.RulesFired);
        Assert.Equal(2, decision.Approval!.Count);
        Assert.Equal(["approver", "operator"], decision.Approval.Roles);
        Assert.Equal(TimeSpan.FromHours(1), decision.Approval.ExpiresAfter);
        Assert.Equal(2, decision.Reasons.Count);
        Assert.StartsWith("approve-revenue: requires approval (revenue path touched)", decision.Reasons[0], StringComparison.Ordinal);
        Assert.StartsWith("approve-regulated: requires approval (regulated data touched)", decision.Reasons[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Steps_of_fired_non_deny_rules_are_unioned_by_name_and_the_first_rule_defines_a_step()
    {
        var decision = Decide(Layered, Billing());

        Assert.Equal(["lint", "unit-tests", "integration-tests"], decision.Validations.Select(v => v.Name));
        Assert.Equal("lint", decision.Validations[0].Parameters["command"]);
        Assert.Equal(["health"], decision.Verifications.Select(v => v.Name));
    }

    [Fact]
    public void Deny_overrides_require_approval_and_runs_nothing()
    {
        var decision = Decide(Layered, Billing(action: "drop"));

        Assert.Equal(DecisionOutcome.Deny, decision.Outcome);
        Assert.Equal(["allow-all", "approve-revenue", "approve-regulated", "deny-drop"], decision.RulesFired);
        Assert.Equal(["deny-drop: denies the action (action 'drop' is in [drop])"], decision.Reasons);
        Assert.Null(decision.Approval);
        Assert.Empty(decision.Validations);
        Assert.Empty(decision.Verifications);
    }

    [Fact]
    public void No_matching_rule_denies_with_no_rule_matched_and_names_the_bundle()
    {
        var policy = Compile("rules: [{ id: dev-only, match: { environments: [dev] }, outcome: allow }]", version: "7");

        var decision = PolicyEvaluator.Decide(policy, LowRisk(environment: "production"), Now);

        Assert.Equal(DecisionOutcome.Deny, decision.Outcome);
        Assert.Equal([PolicyEvaluator.NoRuleReason], decision.Reasons);
        Assert.Equal("no rule matched", decision.Reasons[0]);
        Assert.Empty(decision.RulesFired);
        Assert.Equal(policy.Hash, decision.BundleHash);
        Assert.Equal("7", decision.BundleVersion);
        Assert.Equal(Now, decision.DecidedAt);
    }

    [Fact]
    public void No_bundle_denies_fail_closed()
    {
        var decision = PolicyEvaluator.Decide(null, LowRisk(), Now);

        Assert.Equal(DecisionOutcome.Deny, decision.Outcome);
        Assert.Equal(["no active policy bundle"], decision.Reasons);
        Assert.Equal(PolicyEvaluator.NoBundle, decision.BundleHash);
        Assert.Empty(decision.RulesFired);
    }

    [Fact]
    public void Every_decision_names_the_bundle_hash_version_and_the_rules_fired()
    {
        var policy = Compile(Layered, version: "12");

        var decision = PolicyEvaluator.Decide(policy, LowRisk(), Now);

        Assert.Equal(policy.Hash, decision.BundleHash);
        Assert.Equal("12", decision.BundleVersion);
        Assert.NotEmpty(decision.RulesFired);
    }

    public static TheoryData<string, PolicyFacts, bool> Matchers => new()
    {
        // actions: exact, case-insensitive, wildcard
        { "match: { actions: [restart] }", LowRisk(action: "restart"), true },
        { "match: { actions: [restart] }", LowRisk(action: "Restart"), true },
        { "match: { actions: [restart] }", LowRisk(action: "deploy"), false },
        { "match: { actions: [\"delete-*\"] }", LowRisk(action: "delete-table"), true },
        { "match: { actions: [\"delete-*\"] }", LowRisk(action: "delete"), false },
        { "match: { actions: [\"*-db\"] }", LowRisk(action: "wipe-db"), true },
        { "match: { actions: [\"*\"] }", LowRisk(action: "anything"), true },
        // environments
        { "match: { environments: [staging, production] }", LowRisk(environment: "production"), true },
        { "match: { environments: [staging, production] }", LowRisk(environment: "dev"), false },
        // agents (a proposal without an agent never matches an agent list)
        { "match: { agents: [remediation-agent] }", LowRisk(agent: "remediation-agent"), true },
        { "match: { agents: [remediation-agent] }", LowRisk(agent: "testing-agent"), false },
        { "match: { agents: [remediation-agent] }", LowRisk(agent: null), false },
        // highest criticality: the lowest tier number touched; none touched holds neither bound
        { "match: { impact: { highest-criticality-at-most: 1 } }", LowRisk() with { HighestCriticality = 1 }, true },
        { "match: { impact: { highest-criticality-at-most: 1 } }", LowRisk() with { HighestCriticality = 2 }, false },
        { "match: { impact: { highest-criticality-at-most: 1 } }", LowRisk() with { HighestCriticality = null }, false },
        { "match: { impact: { highest-criticality-at-least: 2 } }", LowRisk() with { HighestCriticality = 2 }, true },
        { "match: { impact: { highest-criticality-at-least: 2 } }", LowRisk() with { HighestCriticality = 1 }, false },
        { "match: { impact: { highest-criticality-at-least: 2 } }", LowRisk() with { HighestCriticality = null }, false },
        // revenue path
        { "match: { impact: { revenue-path: true } }", LowRisk() with { RevenuePath = true }, true },
        { "match: { impact: { revenue-path: true } }", LowRisk(), false },
        { "match: { impact: { revenue-path: false } }", LowRisk(), true },
        // data classes any-of
        { "match: { impact: { data-classes-any-of: [regulated, pci] } }", LowRisk() with { DataClasses = ["pii", "pci"] }, true },
        { "match: { impact: { data-classes-any-of: [regulated, pci] } }", LowRisk() with { DataClasses = ["pii"] }, false },
        { "match: { impact: { data-classes-any-of: [regulated] } }", LowRisk() with { DataClasses = [] }, false },
        // dependents
        { "match: { impact: { dependents-at-least: 5 } }", LowRisk() with { Dependents = 5 }, true },
        { "match: { impact: { dependents-at-least: 5 } }", LowRisk() with { Dependents = 4 }, false },
        { "match: { impact: { dependents-at-most: 4 } }", LowRisk() with { Dependents = 4 }, true },
        { "match: { impact: { dependents-at-most: 4 } }", LowRisk() with { Dependents = 5 }, false },
        // internet exposure
        { "match: { impact: { internet-exposed: true } }", LowRisk() with { InternetExposed = true }, true },
        { "match: { impact: { internet-exposed: true } }", LowRisk(), false },
        // unknown targets
        { "match: { impact: { unknown-targets: true } }", LowRisk() with { UnknownTargets = true }, true },
        { "match: { impact: { unknown-targets: true } }", LowRisk(), false },
        // rollback plan
        { "match: { change: { rollback-plan: absent } }", LowRisk() with { RollbackPlanPresent = false }, true },
        { "match: { change: { rollback-plan: absent } }", LowRisk(), false },
        { "match: { change: { rollback-plan: present } }", LowRisk(), true },
        // no conditions match everything; several conditions must all hold
        { "match: {}", LowRisk(), true },
        { "match: { environments: [dev], impact: { revenue-path: true } }", LowRisk(), false },
    };

    [Theory]
    [MemberData(nameof(Matchers))]
    public void Each_matcher_holds_exactly_when_its_fact_does(string match, PolicyFacts facts, bool fires)
    {
        var decision = Decide($"rules:\n  - id: probe\n    {match}\n    outcome: allow\n", facts);

        Assert.Equal(fires ? DecisionOutcome.Allow : DecisionOutcome.Deny, decision.Outcome);
        Assert.Equal(fires ? ["probe"] : [], decision.RulesFired);
    }

    [Fact]
    public void The_explanation_covers_every_rule_with_why_it_did_or_did_not_match()
    {
        var evaluation = PolicyEvaluator.Explain(Compile(Layered), LowRisk(action: "restart") with { DataClasses = ["pii"] }, Now);

        Assert.Equal(["allow-all", "approve-revenue", "approve-regulated", "deny-drop"], evaluation.Rules.Select(r => r.RuleId));
        Assert.Equal([true, false, false, false], evaluation.Rules.Select(r => r.Matched));
        var regulated = evaluation.Rules.Single(r => r.RuleId == "approve-regulated").Conditions.Single();
        Assert.Equal("impact.data-classes-any-of", regulated.Condition);
        Assert.False(regulated.Met);
        Assert.Equal("data classes [pii] include none of [regulated]", regulated.Detail);
        Assert.Equal("action 'restart' is not in [drop]", evaluation.Rules[3].Conditions.Single().Detail);
        Assert.Equal(DecisionOutcome.Allow, evaluation.Decision.Outcome);
    }

    [Fact]
    public void Facts_come_from_a_proposal_and_its_impact_report()
    {
        var proposal = new ProposalSubmitted(Guid.NewGuid(), "sha256:1", "agent-1", null, "remediation",
            new ProposedAction("purge", "purge old rows", new Dictionary<string, string>()), ["ledger-db"], "production",
            new ChangeReference("sha256:2", "ref", "  "), Now);

        var impact = Impact(0, true, ["regulated"], 3, false, ["ghost"]);
        var facts = PolicyFacts.From(proposal, impact);

        // The report rides along (for the validation plan); without TargetNodes reachability is unknown (null).
        Assert.Equal(new PolicyFacts("purge", "production", "agent-1", false, 0, true, facts.DataClasses, 3, false, true), facts with { Impact = null });
        Assert.Same(impact, facts.Impact);
        Assert.Null(facts.Reachable);
        Assert.Equal(["regulated"], facts.DataClasses);
    }

    [Theory]
    [InlineData("a*c", "abc", true)]
    [InlineData("a*c", "ac", true)]
    [InlineData("a*c", "abd", false)]
    [InlineData("*a*b*", "xxaxxbxx", true)]
    [InlineData("a**", "a", true)]
    [InlineData("abc", "ABC", true)]
    public void Wildcards_match_any_run_of_characters(string pattern, string value, bool matches)
    {
        Assert.Equal(matches, Decide($"rules: [{{ id: w, match: {{ actions: [\"{pattern}\"] }}, outcome: allow }}]", LowRisk(action: value)).Outcome == DecisionOutcome.Allow);
    }
}
