using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;

namespace ControlPlane.Policy.Testing;

/// <summary>
/// Runs a bundle's own tests against the bundle: each case's facts are decided exactly as a proposal would be
/// (<see cref="PolicyEvaluator.Decide"/>), and the outcome and fired rules compared with what the case expects.
/// Pure: the caller passes the decision time (nothing the rules check depends on it today).
/// </summary>
public static class PolicyTestRunner
{
    public static PolicyTestReport Run(CompiledPolicy policy, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new PolicyTestReport([.. (policy.Bundle.Tests ?? []).Select(test => Run(policy, test, at))]);
    }

    public static PolicyTestResult Run(CompiledPolicy policy, PolicyTestCase test, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(test);
        var decision = PolicyEvaluator.Decide(policy, test.Facts, at);
        var fired = decision.RulesFired.Order(StringComparer.Ordinal).ToList();
        var problems = new List<string>();
        if (decision.Outcome != test.Outcome)
        {
            problems.Add($"expected {Wire(test.Outcome)}, got {Wire(decision.Outcome)}");
        }

        if (test.Rules is { } exact && !exact.Order(StringComparer.Ordinal).SequenceEqual(fired, StringComparer.Ordinal))
        {
            problems.Add($"expected rules exactly {List(exact)}, fired {List(fired)}");
        }

        if (test.RulesInclude is { } include && include.Except(fired, StringComparer.Ordinal).ToList() is { Count: > 0 } missing)
        {
            problems.Add($"expected rules to include {List(include)}, {List(missing)} did not fire (fired {List(fired)})");
        }

        return new PolicyTestResult(test.Name, problems.Count == 0, test.Outcome, decision.Outcome, test.Rules, test.RulesInclude, fired,
            problems.Count == 0 ? null : string.Join("; ", problems));
    }

    /// <summary>The outcome as the bundle language spells it.</summary>
    public static string Wire(DecisionOutcome outcome) => outcome switch
    {
        DecisionOutcome.Allow => "allow",
        DecisionOutcome.RequireApproval => "require-approval",
        _ => "deny",
    };

    private static string List(IEnumerable<string> ids) => $"[{string.Join(", ", ids)}]";
}
