using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using ControlPlane.Policy.Simulation;

namespace ControlPlane.Policy.Tests.Simulation;

/// <summary>The pure replay: a rule change flips exactly the decisions it affects, counted by environment and agent.</summary>
public sealed class PolicySimulatorTests
{
    private const string Current = """
        rules:
          - id: dev-allow
            match: { environments: [dev] }
            outcome: allow
          - id: prod-critical-approval
            match: { environments: [production], impact: { highest-criticality-at-most: 1 } }
            outcome: require-approval
            approval: { count: 1, roles: [approver], expiry: 4h }
          - id: prod-low-risk
            match: { environments: [production], impact: { highest-criticality-at-least: 2 } }
            outcome: allow
        """;

    private static readonly DateTimeOffset At = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Replaying_against_the_same_rules_changes_nothing()
    {
        var recorded = Record(Compile(Current), History());

        var report = PolicySimulator.Run(recorded, Compile(Current), At);

        Assert.Equal(recorded.Count, report.Replayed);
        Assert.Equal(recorded.Count, report.Unchanged);
        Assert.Equal(0, report.Changed);
        Assert.Empty(report.Changes);
    }

    [Fact]
    public void Tightening_one_rule_flips_exactly_the_decisions_it_matches()
    {
        var recorded = Record(Compile(Current), History());
        // Production tier-2 changes now need an approver: only the production decisions with tier >= 2 change.
        var candidate = Compile(Current.Replace("""
              - id: prod-low-risk
                match: { environments: [production], impact: { highest-criticality-at-least: 2 } }
                outcome: allow
            """, """
              - id: prod-low-risk
                match: { environments: [production], impact: { highest-criticality-at-least: 2 } }
                outcome: require-approval
                approval: { count: 1, roles: [approver], expiry: 4h }
            """, StringComparison.Ordinal));

        var report = PolicySimulator.Run(recorded, candidate, At);

        var expected = recorded.Where(r => r.Facts.Environment == "production" && r.Facts.HighestCriticality >= 2).Select(r => r.ProposalId).ToHashSet();
        Assert.Equal(2, expected.Count);
        Assert.Equal(expected, report.Changes.Select(c => c.ProposalId).ToHashSet());
        Assert.All(report.Changes, c =>
        {
            Assert.True(c.OutcomeChanged);
            Assert.Equal(DecisionOutcome.Allow, c.From);
            Assert.Equal(DecisionOutcome.RequireApproval, c.To);
            Assert.Equal(["prod-low-risk"], c.RulesBefore);
            Assert.Equal(["prod-low-risk"], c.RulesAfter);
        });
        Assert.Equal((recorded.Count, recorded.Count - 2, 2, 0), (report.Replayed, report.Unchanged, report.Changed, report.RulesOnly));
        Assert.Equal(candidate.Hash, report.CandidateHash);
        Assert.Equal([new SimulationCounts("dev", 2, 0, 0), new SimulationCounts("production", 4, 2, 0)], report.ByEnvironment);
        Assert.Equal([new SimulationCounts("(none)", 1, 0, 0), new SimulationCounts("agent-a", 3, 1, 0), new SimulationCounts("agent-b", 2, 1, 0)], report.ByAgent);
    }

    [Fact]
    public void A_decision_with_the_same_outcome_for_other_rules_is_reported_as_rules_only()
    {
        var recorded = Record(Compile(Current), History());
        var candidate = Compile(Current.Replace("id: dev-allow", "id: dev-autonomous", StringComparison.Ordinal));

        var report = PolicySimulator.Run(recorded, candidate, At);

        Assert.Equal(0, report.Changed);
        Assert.Equal(2, report.RulesOnly);
        Assert.All(report.Changes, c =>
        {
            Assert.Equal(["dev-allow"], c.RulesBefore);
            Assert.Equal(["dev-autonomous"], c.RulesAfter);
        });
    }

    private static List<PolicyFacts> History() =>
    [
        new("deploy", "production", "agent-a", true, 0, true, ["pci"], 3, false, false),
        new("deploy", "production", "agent-a", true, 2, false, [], 1, false, false),
        new("restart", "production", "agent-b", false, 3, false, [], 0, false, false),
        new("restart", "production", null, false, 1, false, [], 0, false, false),
        new("deploy", "dev", "agent-a", false, 0, false, [], 0, false, false),
        new("deploy", "dev", "agent-b", false, 3, false, [], 0, false, false),
    ];

    /// <summary>Decisions as the current bundle took them, as evidence would hold them.</summary>
    private static List<RecordedDecision> Record(CompiledPolicy current, List<PolicyFacts> facts) =>
    [
        .. facts.Select((f, i) =>
        {
            var decision = PolicyEvaluator.Decide(current, f, At.AddMinutes(-i));
            return new RecordedDecision(Guid.NewGuid(), decision.DecidedAt, f, decision.Outcome, decision.RulesFired, decision.BundleHash);
        }),
    ];

    private static CompiledPolicy Compile(string yaml)
    {
        var parsed = BundleParser.Parse(yaml);
        Assert.True(parsed.IsValid, string.Join("; ", parsed.Errors));
        return new CompiledPolicy(parsed.Bundle!, "test");
    }
}
