using ControlPlane.Contracts;

namespace ControlPlane.Policy.Bundles;

/// <summary>
/// A decision without its words: the outcome, how many rules fired (their indexes, in bundle order, are the first
/// <see cref="Fired"/> entries of the span the caller passed to <see cref="PolicyEvaluator.Verdict"/>) and how many of
/// them decide it (those whose <see cref="CompiledPolicy.RuleOutcome"/> equals <see cref="Outcome"/>). The rules' ids are
/// <see cref="CompiledPolicy.RuleId"/>. This is what an authorizer such as Cedar answers (a decision and its determining
/// policies); <see cref="PolicyEvaluator.Decide"/> adds the reasons, approval, steps and plan. A value: no allocation.
/// </summary>
public readonly record struct PolicyVerdict(DecisionOutcome Outcome, int Fired, int Deciding, bool HasBundle)
{
    /// <summary>Fail closed without a bundle: deny, nothing fired.</summary>
    public static PolicyVerdict NoBundle => new(DecisionOutcome.Deny, 0, 0, false);

    /// <summary>Fail closed when a bundle is active but no rule fires: deny.</summary>
    public bool NoRuleMatched => HasBundle && Fired == 0;

    /// <summary>Whether the fired rule at <paramref name="ruleIndex"/> is one of those deciding the outcome.</summary>
    public bool IsDeciding(CompiledPolicy policy, int ruleIndex)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return Fired > 0 && policy.RuleOutcome(ruleIndex) == Outcome;
    }
}
