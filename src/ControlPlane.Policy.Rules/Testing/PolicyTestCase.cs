using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;

namespace ControlPlane.Policy.Testing;

/// <summary>
/// A test a bundle ships with: facts in, the outcome and fired rules expected out. Rules: the exact set of rule ids
/// that must fire (empty: none, i.e. the "no rule matched" deny); RulesInclude: ids that must be among those that
/// fire, others allowed. At most one of the two is given; neither means only the outcome is checked.
/// </summary>
public sealed record PolicyTestCase(
    string Name,
    PolicyFacts Facts,
    DecisionOutcome Outcome,
    IReadOnlyList<string>? Rules = null,
    IReadOnlyList<string>? RulesInclude = null);

/// <summary>How one test case fared: what it expected and what the bundle decided, and in words why it failed.</summary>
public sealed record PolicyTestResult(
    string Name,
    bool Passed,
    DecisionOutcome ExpectedOutcome,
    DecisionOutcome ActualOutcome,
    IReadOnlyList<string>? ExpectedRules,
    IReadOnlyList<string>? ExpectedRulesInclude,
    IReadOnlyList<string> ActualRules,
    string? Failure);

/// <summary>Every case's result, in the bundle's order.</summary>
public sealed record PolicyTestReport(IReadOnlyList<PolicyTestResult> Results)
{
    public int Total => Results.Count;

    public int Passed => Results.Count(r => r.Passed);

    public int Failed => Total - Passed;

    public bool AllPassed => Failed == 0;

    public IEnumerable<PolicyTestResult> Failures => Results.Where(r => !r.Passed);
}
