using ControlPlane.Contracts;
using ControlPlane.Policy.Testing;
using ControlPlane.Policy.Validation;

namespace ControlPlane.Policy.Bundles;

/// <summary>
/// A policy bundle as parsed: ordered rules. This record is also the canonical form that is hashed (sets sorted,
/// durations normalised), so the bundle hash pins what the rules say, not how the YAML was written. Tests: the
/// bundle's own test cases (Testing/PolicyTestCase), part of the hash because they are part of what was reviewed;
/// null when the bundle has none (the canonical JSON omits nulls, so older bundles keep their hashes).
/// </summary>
public sealed record PolicyBundle(string? Name, string? Description, IReadOnlyList<PolicyRule> Rules, IReadOnlyList<PolicyTestCase>? Tests = null);

/// <summary>
/// One rule: when <see cref="Match"/> holds for the facts of a proposal, the rule fires with its outcome. Every
/// matching rule fires; deny overrides require-approval overrides allow.
/// </summary>
public sealed record PolicyRule(
    string Id,
    string? Description,
    RuleMatch Match,
    DecisionOutcome Outcome,
    ApprovalRequirement? Approval,
    IReadOnlyList<StepRequirement> Validations,
    IReadOnlyList<StepRequirement> Verifications,
    ValidationPlanRule? Plan = null);

/// <summary>All present conditions must hold; an absent one does not constrain. Name lists accept "*" wildcards.
/// TrackRecord: the agent's verified outcomes for this action kind and environment (earned autonomy).</summary>
public sealed record RuleMatch(
    IReadOnlyList<string>? Actions,
    IReadOnlyList<string>? Environments,
    IReadOnlyList<string>? Agents,
    ImpactMatch? Impact,
    ChangeMatch? Change,
    TrackRecordMatch? TrackRecord = null);

/// <summary>
/// Conditions on the impact report. Criticality is the highest criticality touched, i.e. the lowest tier number
/// (0 is most critical); when no known node is touched there is no criticality and neither bound holds.
/// Reachable, ReachableDataClassesAnyOf, ReachableDependentsAtLeast: on the part of the impact outside traffic reaches
/// (a report without reachability counts as wholly reachable: fail closed).
/// </summary>
public sealed record ImpactMatch(
    int? HighestCriticalityAtMost,
    int? HighestCriticalityAtLeast,
    bool? RevenuePath,
    IReadOnlyList<string>? DataClassesAnyOf,
    int? DependentsAtLeast,
    int? DependentsAtMost,
    bool? InternetExposed,
    bool? UnknownTargets,
    bool? DriftDetected = null,
    bool? Reachable = null,
    IReadOnlyList<string>? ReachableDataClassesAnyOf = null,
    int? ReachableDependentsAtLeast = null);

/// <summary>Conditions on the change itself: RollbackPlan true means "a rollback plan is present".</summary>
public sealed record ChangeMatch(bool? RollbackPlan);

/// <summary>Where a bundle problem is: the YAML path, the position, and the rule it belongs to when there is one.</summary>
public sealed record BundleError(string Path, int Line, int Column, string? RuleId, string Message)
{
    public override string ToString() =>
        $"line {Line}, column {Column}{(RuleId is null ? string.Empty : $" (rule '{RuleId}')")}: {Message}";
}

public sealed record BundleParseResult(PolicyBundle? Bundle, IReadOnlyList<BundleError> Errors)
{
    public bool IsValid => Bundle is not null && Errors.Count == 0;
}
