using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using static ControlPlane.Policy.Tests.Bundles.Facts;

namespace ControlPlane.Policy.Tests.Bundles;

/// <summary>The driftDetected fact (a target deployed outside the plane, reported by system-graph) in rules.</summary>
public sealed class DriftRuleTests
{
    private const string Bundle = """
        rules:
          - id: allow-all
            outcome: allow
          - id: drifted-target-needs-approval
            description: A node deployed outside the plane changes only with a human looking
            match: { environments: [production], impact: { drift-detected: true } }
            outcome: require-approval
            approval: { count: 1, roles: [approver], expiry: 4h }
        """;

    [Fact]
    public void The_parser_reads_drift_detected_as_an_impact_condition()
    {
        var rule = BundleParser.Parse(Bundle).Bundle!.Rules[1];

        Assert.True(rule.Match.Impact!.DriftDetected);
    }

    [Fact]
    public void A_rule_on_drift_detected_fires_only_when_the_impact_report_says_a_target_drifted()
    {
        var since = Now.AddHours(-3);
        var drifted = PolicyFacts.From("restart", "production", "remediation-agent", true,
            Impact(3, false, ["public"], 0, false, []) with { DriftDetected = true, DriftSince = since });
        var clean = PolicyFacts.From("restart", "production", "remediation-agent", true, Impact(3, false, ["public"], 0, false, []));

        var held = PolicyEvaluator.Explain(Compile(Bundle), drifted, Now);
        var allowed = Decide(Bundle, clean);

        Assert.Equal(DecisionOutcome.RequireApproval, held.Decision.Outcome);
        Assert.Contains("drifted-target-needs-approval", held.Decision.RulesFired);
        Assert.Contains(held.Rules.SelectMany(r => r.Conditions), c => c.Detail.Contains("deployed outside the plane since 2026-11-21T09:00:00Z", StringComparison.Ordinal));
        Assert.Equal(DecisionOutcome.Allow, allowed.Outcome);
        Assert.DoesNotContain("drifted-target-needs-approval", allowed.RulesFired);
    }

    [Fact]
    public void An_impact_report_from_before_drift_existed_reads_as_no_drift()
    {
        var old = System.Text.Json.JsonSerializer.Deserialize<ImpactReport>(
            """{"graphVersion":1,"targets":["x"],"dependents":[],"highestCriticality":3,"dataClasses":[],"revenuePath":false,"internetExposed":false,"teams":[],"unknownTargets":[],"reasons":[],"assessedAt":"2026-11-21T12:00:00Z"}""",
            ContractJson.Options)!;

        Assert.False(PolicyFacts.From("restart", "production", null, true, old).DriftDetected);
    }
}
