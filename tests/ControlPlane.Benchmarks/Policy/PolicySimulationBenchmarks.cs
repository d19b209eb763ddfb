using BenchmarkDotNet.Attributes;
using ControlPlane.Policy.Bundles;
using ControlPlane.Policy.Simulation;

namespace ControlPlane.Benchmarks.Policy;

/// <summary>
/// The figure for "simulation time for 10,000 proposals": the pure replay (<see cref="PolicySimulator"/>) of 10,000
/// recorded decisions against a 200-rule candidate (<see cref="PolicyEvaluationBenchmarks"/>'s generator) in which
/// some rules were tightened, so part of the decisions change. Reading the decisions from evidence is not included.
/// </summary>
[MemoryDiagnoser]
public class PolicySimulationBenchmarks
{
    private const int Proposals = 10_000;
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;

    private List<RecordedDecision> _recorded = null!;
    private CompiledPolicy _candidate = null!;

    [GlobalSetup]
    public void Setup()
    {
        var yaml = PolicyEvaluationBenchmarks.Bundle(200);
        var current = Compile(yaml);
        // Tightened: rules that needed 3 dependents now need 4, and those that matched tier 1 now match tier 0 only.
        _candidate = Compile(yaml.Replace("dependents-at-least: 3", "dependents-at-least: 4", StringComparison.Ordinal)
            .Replace("highest-criticality-at-most: 1", "highest-criticality-at-most: 0", StringComparison.Ordinal));
        string[] environments = ["dev", "staging", "production", "qa"];
        string[] actions = ["deploy", "restart", "rollback", "scale", "config-change", "delete-table"];
        string[][] classes = [[], ["pii"], ["regulated"], ["pii", "regulated"]];
        var random = new Random(13);
        _recorded = [.. Enumerable.Range(0, Proposals).Select(i =>
        {
            var facts = new PolicyFacts(actions[random.Next(actions.Length)], environments[random.Next(environments.Length)], $"agent-{random.Next(8)}",
                random.Next(2) == 0, random.Next(5) is var tier && tier == 4 ? null : tier, random.Next(4) == 0, classes[random.Next(classes.Length)],
                random.Next(15), random.Next(5) == 0, random.Next(10) == 0);
            var decision = PolicyEvaluator.Decide(current, facts, Now);
            return new RecordedDecision(Guid.NewGuid(), Now.AddSeconds(-i), facts, decision.Outcome, decision.RulesFired, decision.BundleHash);
        })];
        var report = Replay();
        Console.WriteLine($"// {Proposals} decisions replayed against 200 rules: {report.Changed} change outcome, {report.RulesOnly} change rules only");
    }

    [Benchmark(Description = "Replay 10,000 recorded decisions against a 200-rule candidate")]
    public SimulationReport Replay() => PolicySimulator.Run(_recorded, _candidate, Now);

    private static CompiledPolicy Compile(string yaml)
    {
        var parsed = BundleParser.Parse(yaml);
        return parsed.IsValid ? new CompiledPolicy(parsed.Bundle!, "1") : throw new InvalidOperationException(string.Join("; ", parsed.Errors));
    }
}
