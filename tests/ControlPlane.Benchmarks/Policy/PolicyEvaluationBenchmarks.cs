using System.Text;
using BenchmarkDotNet.Attributes;
using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;

namespace ControlPlane.Benchmarks.Policy;

/// <summary>
/// Decisions per second with a 200-rule bundle (mixed conditions on actions, environments, agents, impact and
/// change; 20 of them deny rules) for a proposal that fires a few rules, plus the explained dry run and parsing.
/// Decisions/second = 1 s / mean time of <see cref="Decide"/>.
/// </summary>
[MemoryDiagnoser]
public class PolicyEvaluationBenchmarks
{
    private const int RuleCount = 200;
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;
    private static readonly PolicyFacts Facts = new("deploy", "production", "remediation-agent", true, 1, true, ["pii", "regulated"], 7, false, false);

    // The same proposal in an environment no rule names: every rule is tested, none fires, so what is left is the cost of
    // matching plus the fixed "no rule matched" deny (its record is all it allocates).
    private static readonly PolicyFacts NoneFire = Facts with { Environment = "sandbox" };

    private string _yaml = null!;
    private CompiledPolicy _policy = null!;

    // Where a verdict writes the fired rules' indexes: the caller's, made once, as a stackalloc would be per call.
    private int[] _fired = null!;

    [GlobalSetup]
    public void Setup()
    {
        _yaml = Bundle(RuleCount);
        var parsed = BundleParser.Parse(_yaml);
        if (!parsed.IsValid)
        {
            throw new InvalidOperationException(string.Join("; ", parsed.Errors));
        }

        _policy = new CompiledPolicy(parsed.Bundle!, "1");
        _fired = new int[_policy.RuleCount];
        Console.WriteLine($"// {RuleCount} rules; {Decide().RulesFired.Count} fire for the benchmark's facts, outcome {Decide().Outcome}");
    }

    [Benchmark(Description = "Decide with a 200-rule bundle")]
    public PolicyDecision Decide() => PolicyEvaluator.Decide(_policy, Facts, Now);

    [Benchmark(Description = "Decide with a 200-rule bundle, no rule fires")]
    public PolicyDecision DecideNoneFire() => PolicyEvaluator.Decide(_policy, NoneFire, Now);

    /// <summary>
    /// What Cedar's authorizer answers: the decision and the determining policies. The deciding rules' ids are the
    /// compiled rules' own strings (<see cref="CompiledPolicy.RuleId"/>), so naming them allocates nothing either.
    /// </summary>
    [Benchmark(Description = "Verdict (outcome + deciding rule ids), 200 rules")]
    public PolicyVerdict Verdict() => PolicyEvaluator.Verdict(_policy, Facts, _fired);

    [Benchmark(Description = "Verdict (outcome + deciding rule ids), 200 rules, no rule fires")]
    public PolicyVerdict VerdictNoneFire() => PolicyEvaluator.Verdict(_policy, NoneFire, _fired);

    [Benchmark(Description = "Explain every rule of a 200-rule bundle (dry run)")]
    public PolicyEvaluation Explain() => PolicyEvaluator.Explain(_policy, Facts, Now);

    [Benchmark(Description = "Parse, validate and hash a 200-rule bundle")]
    public string ParseAndHash() => CompiledPolicy.HashOf(BundleParser.Parse(_yaml).Bundle!);

    internal static string Bundle(int rules)
    {
        string[] environments = ["dev", "staging", "production", "qa"];
        string[] actions = ["deploy", "restart", "rollback", "scale", "config-*", "delete-*"];
        var yaml = new StringBuilder("name: benchmark\nrules:\n");
        for (var i = 0; i < rules; i++)
        {
            yaml.Append("  - id: rule-").Append(i).Append('\n')
                .Append("    match:\n")
                .Append("      environments: [").Append(environments[i % environments.Length]).Append("]\n")
                .Append("      actions: [\"").Append(actions[i % actions.Length]).Append("\", \"").Append(actions[(i + 1) % actions.Length]).Append("\"]\n");
            if (i % 3 == 0)
            {
                yaml.Append("      agents: [agent-").Append(i % 7).Append(", remediation-agent]\n");
            }

            yaml.Append("      impact: { highest-criticality-at-most: ").Append(i % 4)
                .Append(", dependents-at-least: ").Append(i % 10)
                .Append(", data-classes-any-of: [").Append(i % 2 == 0 ? "regulated" : "pii").Append("] }\n");
            if (i % 10 == 9)
            {
                yaml.Append("      change: { rollback-plan: absent }\n    outcome: deny\n");
            }
            else if (i % 2 == 0)
            {
                yaml.Append("    outcome: require-approval\n    approval: { count: ").Append(1 + (i % 3)).Append(", roles: [approver], expiry: ").Append(1 + (i % 8)).Append("h }\n")
                    .Append("    validations: [{ name: check-").Append(i % 5).Append(", action: run-command, parameters: { command: check-").Append(i % 5).Append(" } }]\n");
            }
            else
            {
                yaml.Append("    outcome: allow\n    verifications: [{ name: health, action: http-check, parameters: { path: /health } }]\n");
            }
        }

        return yaml.ToString();
    }
}
