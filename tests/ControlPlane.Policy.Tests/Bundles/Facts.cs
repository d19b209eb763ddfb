using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;

namespace ControlPlane.Policy.Tests.Bundles;

/// <summary>Facts and bundles for the pure tests.</summary>
internal static class Facts
{
    public static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A leaf: tier 3, public data, nothing depends on it, rollback plan present.</summary>
    public static PolicyFacts LowRisk(string action = "restart", string environment = "dev", string? agent = "remediation-agent") =>
        new(action, environment, agent, true, 3, false, ["public"], 0, false, false);

    /// <summary>What system-graph reports for billing in the demo graph (tier 0 gateway behind it, revenue path, regulated and card data).</summary>
    public static PolicyFacts Billing(string action = "deploy", string environment = "production", bool rollbackPlan = true) =>
        new(action, environment, "remediation-agent", rollbackPlan, 0, true, ["pci", "pii", "public", "regulated"], 4, true, false);

    public static CompiledPolicy Compile(string yaml, string version = "1")
    {
        var parsed = BundleParser.Parse(yaml);
        Assert.True(parsed.IsValid, string.Join(Environment.NewLine, parsed.Errors));
        return new CompiledPolicy(parsed.Bundle!, version);
    }

    public static PolicyDecision Decide(string yaml, PolicyFacts facts) => PolicyEvaluator.Decide(Compile(yaml), facts, Now);

    public static ImpactReport Impact(int? tier, bool revenue, IReadOnlyList<string> classes, int dependents, bool exposed, IReadOnlyList<string> unknown) =>
        new(1, ["x"], [.. Enumerable.Range(0, dependents).Select(i => new ImpactedNode($"d{i}", 1, ["x", $"d{i}"], 3, "t", false, [], false))],
            tier, classes, revenue, exposed, ["t"], unknown, [], Now);
}
