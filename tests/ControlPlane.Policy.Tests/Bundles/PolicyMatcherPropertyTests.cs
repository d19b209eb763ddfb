using System.Text.Json;
using System.Text.RegularExpressions;
using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;

namespace ControlPlane.Policy.Tests.Bundles;

/// <summary>
/// Decide finds the fired rules by comparing ids resolved once per decision; Explain tests every condition's own
/// predicate. On random bundles and facts (exact names in other cases, wildcards, absent agents, data classes) both
/// must fire exactly the rules a plain reading of each rule's match fires, and give the same decision.
/// </summary>
public sealed class PolicyMatcherPropertyTests
{
    private static readonly string[] Names = ["deploy", "Deploy", "restart", "scale", "delete-db", "config-set", "prod", "production", "dev", "agent-1", "AGENT-2"];
    private static readonly string[] Patterns = ["*", "delete-*", "*-set", "pro*", "*o*", "a*-*", "de*oy"];
    private static readonly string[] Classes = ["pii", "PCI", "regulated", "public", "secret"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Decide_fires_the_rules_a_plain_reading_fires_and_agrees_with_explain(int seed)
    {
        foreach (var (bundle, policy, facts) in RandomCases(seed))
        {
            var decision = PolicyEvaluator.Decide(policy, facts, Facts.Now);
            var explained = PolicyEvaluator.Explain(policy, facts, Facts.Now);

            var expected = bundle.Rules.Where(r => Fires(r.Match, facts)).Select(r => r.Id).ToList();
            Assert.Equal(expected, decision.RulesFired);
            Assert.Equal(expected, explained.Rules.Where(r => r.Matched).Select(r => r.RuleId));
            Assert.Equal(JsonSerializer.Serialize(explained.Decision, ContractJson.Options), JsonSerializer.Serialize(decision, ContractJson.Options));
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public void The_verdict_fires_the_rules_decide_fires_with_its_outcome_and_deciding_rules(int seed)
    {
        foreach (var (_, policy, facts) in RandomCases(seed))
        {
            var fired = new int[policy.RuleCount];
            var decision = PolicyEvaluator.Decide(policy, facts, Facts.Now);
            var verdict = PolicyEvaluator.Verdict(policy, facts, fired);

            Assert.Equal(decision.Outcome, verdict.Outcome);
            Assert.Equal(decision.RulesFired, fired[..verdict.Fired].Select(policy.RuleId));
            // A decision gives one reason per deciding rule, starting with its id (none fired: the one "no rule matched").
            var deciding = fired[..verdict.Fired].Where(r => verdict.IsDeciding(policy, r)).Select(policy.RuleId).ToList();
            Assert.Equal(verdict.Deciding, deciding.Count);
            Assert.Equal(verdict.NoRuleMatched ? [PolicyEvaluator.NoRuleReason] : deciding, decision.Reasons.Select(r => verdict.NoRuleMatched ? r : r[..r.IndexOf(':', StringComparison.Ordinal)]));
        }
    }

    /// <summary>60 random bundles of 1–39 rules, each with 40 random facts, the same for a seed.</summary>
    private static IEnumerable<(PolicyBundle Bundle, CompiledPolicy Policy, PolicyFacts Facts)> RandomCases(int seed)
    {
        var random = new Random(seed);
        for (var b = 0; b < 60; b++)
        {
            var bundle = new PolicyBundle("random", null, [.. Enumerable.Range(0, random.Next(1, 40)).Select(i => RandomRule(random, i))]);
            var policy = new CompiledPolicy(bundle, "1");
            for (var f = 0; f < 40; f++)
            {
                yield return (bundle, policy, RandomFacts(random));
            }
        }
    }

    private static PolicyRule RandomRule(Random random, int index)
    {
        var outcome = (DecisionOutcome)random.Next(3);
        var match = new RuleMatch(
            NameList(random), NameList(random), NameList(random),
            random.Next(3) == 0 ? null : new ImpactMatch(
                Maybe(random, random.Next(4)), Maybe(random, random.Next(4)), MaybeBool(random),
                random.Next(3) == 0 ? [.. Classes.Where(_ => random.Next(3) == 0)] : null,
                Maybe(random, random.Next(10)), Maybe(random, random.Next(10)), MaybeBool(random), MaybeBool(random), MaybeBool(random)),
            random.Next(4) == 0 ? new ChangeMatch(random.Next(2) == 0) : null);
        var step = new StepRequirement($"check-{random.Next(4)}", "run-command", new Dictionary<string, string> { ["rule"] = $"r{index}" });
        return new PolicyRule($"r{index}", random.Next(2) == 0 ? null : $"rule {index}", match, outcome,
            outcome == DecisionOutcome.RequireApproval || random.Next(4) == 0
                ? new ApprovalRequirement(1 + random.Next(3), [.. new[] { "sre", "owner", "cab" }.Where(_ => random.Next(2) == 0)], TimeSpan.FromHours(1 + random.Next(8)), random.Next(3) == 0)
                : null,
            random.Next(2) == 0 ? [step] : [], random.Next(3) == 0 ? [step with { Name = "health" }] : []);
    }

    private static string[]? NameList(Random random) => random.Next(3) == 0
        ? null
        : [.. Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(3) == 0 ? Patterns[random.Next(Patterns.Length)] : Names[random.Next(Names.Length)])];

    private static int? Maybe(Random random, int value) => random.Next(3) == 0 ? value : null;

    private static bool? MaybeBool(Random random) => random.Next(4) == 0 ? random.Next(2) == 0 : null;

    private static PolicyFacts RandomFacts(Random random) => new(
        random.Next(4) == 0 ? Names[random.Next(Names.Length)].ToUpperInvariant() : Names[random.Next(Names.Length)],
        Names[random.Next(Names.Length)],
        random.Next(4) == 0 ? null : Names[random.Next(Names.Length)],
        random.Next(2) == 0, random.Next(5) == 0 ? null : random.Next(4), random.Next(2) == 0,
        [.. Classes.Where(_ => random.Next(3) == 0).Select(c => random.Next(2) == 0 ? c.ToUpperInvariant() : c)],
        random.Next(12), random.Next(2) == 0, random.Next(4) == 0, random.Next(5) == 0);

    /// <summary>The rule language read plainly: names match case-insensitively, "*" stands for any run of characters.</summary>
    private static bool Fires(RuleMatch match, PolicyFacts facts) =>
        NameHolds(match.Actions, facts.ActionKind) && NameHolds(match.Environments, facts.Environment) && NameHolds(match.Agents, facts.AgentId)
        && (match.Impact is not { } impact || (
            (impact.HighestCriticalityAtMost is not { } most || facts.HighestCriticality <= most)
            && (impact.HighestCriticalityAtLeast is not { } least || facts.HighestCriticality >= least)
            && (impact.RevenuePath is not { } revenue || facts.RevenuePath == revenue)
            && (impact.DataClassesAnyOf is not { } classes || facts.DataClasses.Any(c => classes.Contains(c, StringComparer.OrdinalIgnoreCase)))
            && (impact.DependentsAtLeast is not { } atLeast || facts.Dependents >= atLeast)
            && (impact.DependentsAtMost is not { } atMost || facts.Dependents <= atMost)
            && (impact.InternetExposed is not { } exposed || facts.InternetExposed == exposed)
            && (impact.UnknownTargets is not { } unknown || facts.UnknownTargets == unknown)
            && (impact.DriftDetected is not { } drift || facts.DriftDetected == drift)))
        && (match.Change?.RollbackPlan is not { } rollback || facts.RollbackPlanPresent == rollback);

    private static bool NameHolds(IReadOnlyList<string>? patterns, string? value) =>
        patterns is null || (value is not null && patterns.Any(p =>
            Regex.IsMatch(value, "^" + Regex.Escape(p).Replace(@"\*", ".*", StringComparison.Ordinal) + "$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)));
}
