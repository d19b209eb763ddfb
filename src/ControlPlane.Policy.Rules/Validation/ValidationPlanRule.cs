namespace ControlPlane.Policy.Validation;

/// <summary>
/// A rule's <c>validation-plan</c>: which affected dependents' suites join the targets' suites, the minimum the
/// policy requires, suites it adds, retries per suite and suites that only advise. Part of the hashed bundle (sets
/// sorted), so the bundle hash pins the plan rules too.
/// </summary>
public sealed record ValidationPlanRule(
    IReadOnlyList<DependentSelection> Dependents,
    IReadOnlyList<string> Require,
    IReadOnlyList<AddedSuite> Add,
    IReadOnlyDictionary<string, int> Retries,
    IReadOnlyList<string> Advisory);

/// <summary>
/// Which dependents a rule chooses: every present condition must hold. CriticalityAtMost: tier number at most (0 is
/// most critical). FlowsAnyOf: the flow of the edge that reaches the dependent. ReachableOnly: outside traffic
/// reaches it (unknown reachability counts as reachable). Advisory: the chosen suites do not hold the gate.
/// </summary>
public sealed record DependentSelection(
    int? MaxDepth,
    int? CriticalityAtMost,
    IReadOnlyList<string>? DataClassesAnyOf,
    IReadOnlyList<string>? FlowsAnyOf,
    bool ReachableOnly,
    bool Advisory)
{
    /// <summary>"max-depth 1, reachable only": what a reader of a plan reason needs to see.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (MaxDepth is { } depth)
        {
            parts.Add($"max-depth {depth}");
        }

        if (CriticalityAtMost is { } tier)
        {
            parts.Add($"tier at most {tier}");
        }

        if (DataClassesAnyOf is { } classes)
        {
            parts.Add($"data classes any of [{string.Join(", ", classes)}]");
        }

        if (FlowsAnyOf is { } flows)
        {
            parts.Add($"flows any of [{string.Join(", ", flows)}]");
        }

        if (ReachableOnly)
        {
            parts.Add("reachable only");
        }

        return parts.Count == 0 ? "every dependent" : string.Join(", ", parts);
    }
}

/// <summary>A suite the policy adds by name: declared by <see cref="Node"/> (its details are taken from the impact when the node is in it).</summary>
public sealed record AddedSuite(string Suite, string Node, string Fleet);

/// <summary>The minimums a plan rule can require: every dependent's suites of that kind are required.</summary>
public static class PlanMinimums
{
    public const string AllDependents = "all-dependents";
    public const string AllReachableDependents = "all-reachable-dependents";
    public const int MaxRetries = 3;

    /// <summary>"all-tier-N-dependents": every dependent of tier N or more critical (0 to 3).</summary>
    public static int? TierOf(string minimum) =>
        minimum.Length == "all-tier-0-dependents".Length && minimum.StartsWith("all-tier-", StringComparison.Ordinal) &&
        minimum.EndsWith("-dependents", StringComparison.Ordinal) && minimum[9] is >= '0' and <= '3'
            ? minimum[9] - '0'
            : null;

    public static bool IsKnown(string minimum) => minimum is AllDependents or AllReachableDependents || TierOf(minimum) is not null;
}
