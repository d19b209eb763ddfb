using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;

namespace ControlPlane.Policy.Tests.Validation;

/// <summary>
/// Impact reports as system-graph makes them for the demo graph (src/ControlPlane.SystemGraph/Seed/demo-graph.json):
/// billing, reachable through gateway → checkout; the nightly ledger-reconciliation job, which nothing reaches.
/// </summary>
internal static class DemoImpacts
{
    public static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    public static ValidationSuite Suite(string name, string? stage = null) => new(name, "testing", $"what {name} covers", 60, stage);

    public static ImpactedNode Dependent(string id, int depth, string[] path, int tier, string[] classes, string? flow, string[]? reachablePath, params ValidationSuite[] suites) =>
        new(id, depth, path, tier, "team", false, classes, false, flow, reachablePath is not null, reachablePath, suites.Length == 0 ? null : suites);

    public static ImpactReport Billing(long version = 7, bool billingReachable = true) => new(
        version,
        ["billing"],
        [
            Dependent("billing-admin", 1, ["billing", "billing-admin"], 2, ["pii"], EdgeFlows.InternalCall, null, Suite("billing-admin-smoke")),
            Dependent("checkout", 1, ["billing", "checkout"], 1, ["pii"], EdgeFlows.InternalCall, ["gateway", "checkout"], Suite("checkout-e2e")),
            Dependent("reporting", 1, ["billing", "reporting"], 3, ["pii"], EdgeFlows.InternalCall, null, Suite("reporting-billing-export")),
            Dependent("gateway", 2, ["billing", "checkout", "gateway"], 0, ["public"], EdgeFlows.PublicIngress, ["gateway"], Suite("gateway-smoke")),
            Dependent("web-app", 2, ["billing", "checkout", "web-app"], 1, ["pii"], EdgeFlows.InternalCall, ["gateway", "web-app"], Suite("web-app-journeys")),
        ],
        0, ["pci", "pii", "public", "regulated"], true, true, ["payments"], [], ["touches revenue path: billing is a target"], Now,
        TargetNodes:
        [
            new ImpactedNode("billing", 0, ["billing"], 1, "payments", true, ["pci", "regulated"], false, null, billingReachable,
                billingReachable ? ["gateway", "checkout", "billing"] : null,
                [Suite("billing-api-contract"), Suite("billing-leak-check", "verify"), Suite("billing-ledger-integrity")]),
        ]);

    /// <summary>The batch job: tier 2, regulated, no dependents; reachable only when <paramref name="reachable"/> (an equal job on a reachable path).</summary>
    public static ImpactReport Job(bool reachable, long version = 7) => new(
        version, ["ledger-reconciliation"], [], 2, ["regulated"], false, false, ["payments"], [], [], Now,
        TargetNodes:
        [
            new ImpactedNode("ledger-reconciliation", 0, ["ledger-reconciliation"], 2, "payments", false, ["regulated"], false, null, reachable,
                reachable ? ["gateway", "ledger-reconciliation"] : null, [Suite("ledger-reconciliation-dry-run")]),
        ]);

    public static PolicyFacts Facts(ImpactReport impact, string environment = "production", string action = "deploy") =>
        PolicyFacts.From(action, environment, "remediation-agent", true, impact);
}
