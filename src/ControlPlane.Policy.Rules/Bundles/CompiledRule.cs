using System.Collections.ObjectModel;
using ControlPlane.Contracts;

namespace ControlPlane.Policy.Bundles;

/// <summary>
/// A rule with its conditions as predicates, and what every decision it fires in would otherwise rebuild: the
/// constant start of its reason ("rule-id: what ("), the whole reason when it has no condition, and its approval's
/// roles sorted and distinct.
/// </summary>
internal sealed class CompiledRule
{
    public CompiledRule(PolicyRule rule, Condition[] conditions)
    {
        Rule = rule;
        Conditions = conditions;
        var what = rule.Description ?? rule.Outcome switch
        {
            DecisionOutcome.Deny => "denies the action",
            DecisionOutcome.RequireApproval => "requires approval",
            _ => "allows the action",
        };
        ReasonPrefix = $"{rule.Id}: {what} (";
        FixedReason = conditions.Length == 0 ? ReasonPrefix + "matches every proposal)" : null;
        ApprovalRoles = rule.Approval is { } approval
            ? Array.AsReadOnly(approval.Roles.Order(StringComparer.Ordinal).Distinct(StringComparer.Ordinal).ToArray())
            : ReadOnlyCollection<string>.Empty;
    }

    public PolicyRule Rule { get; }

    public Condition[] Conditions { get; }

    /// <summary>"rule-id: description (": the reason up to its first condition.</summary>
    public string ReasonPrefix { get; }

    /// <summary>The reason of a rule without conditions (it matches every proposal); null when conditions describe the facts.</summary>
    public string? FixedReason { get; }

    /// <summary>The approval's roles, sorted (ordinal) and distinct; read-only, so decisions may share it.</summary>
    public ReadOnlyCollection<string> ApprovalRoles { get; }
}
