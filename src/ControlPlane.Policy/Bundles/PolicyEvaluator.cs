using ControlPlane.Contracts;
using ControlPlane.Policy.Validation;

namespace ControlPlane.Policy.Bundles;

/// <summary>How one condition of a rule fared against the facts.</summary>
public sealed record ConditionCheck(string Condition, bool Met, string Detail);

/// <summary>How one rule fared: matched (fired) or not, and why, condition by condition.</summary>
public sealed record RuleEvaluation(string RuleId, string? Description, DecisionOutcome Outcome, bool Matched, IReadOnlyList<ConditionCheck> Conditions);

/// <summary>The decision and, when asked for, the explanation of every rule.</summary>
public sealed record PolicyEvaluation(PolicyDecision Decision, IReadOnlyList<RuleEvaluation> Rules);

/// <summary>
/// Decides a proposal by a bundle. Every rule whose conditions all hold fires. Deny overrides require-approval
/// overrides allow. Approval requirements of fired rules combine (the largest count, the union of roles, the
/// shortest expiry); validations and verifications of fired non-deny rules are unioned by step name (the first
/// rule to name a step defines it), after the suites of the validation plan the fired rules' plan blocks derive from
/// the impact (<see cref="ValidationPlanner"/>); a deny runs nothing. Fail closed: no bundle, or no rule matching, is a deny.
/// Pure: no I/O, no clock (the caller passes the decision time).
/// </summary>
public static class PolicyEvaluator
{
    public const string NoBundleReason = "no active policy bundle";
    public const string NoRuleReason = "no rule matched";

    /// <summary>Bundle hash and version named by a decision taken without a bundle.</summary>
    public const string NoBundle = "none";

    public static PolicyDecision Decide(CompiledPolicy? policy, PolicyFacts facts, DateTimeOffset decidedAt) =>
        Evaluate(policy, facts, decidedAt, explain: false).Decision;

    public static PolicyEvaluation Explain(CompiledPolicy? policy, PolicyFacts facts, DateTimeOffset decidedAt) =>
        Evaluate(policy, facts, decidedAt, explain: true);

    private static PolicyEvaluation Evaluate(CompiledPolicy? policy, PolicyFacts facts, DateTimeOffset decidedAt, bool explain)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (policy is null)
        {
            return new PolicyEvaluation(Deny(NoBundleReason, NoBundle, NoBundle, decidedAt), []);
        }

        var fired = new List<CompiledRule>();
        var explanations = explain ? new List<RuleEvaluation>(policy.Rules.Count) : null;
        foreach (var rule in policy.Rules)
        {
            bool matched;
            if (explanations is not null)
            {
                var checks = rule.Conditions.Select(c =>
                {
                    var met = c.Test(facts);
                    return new ConditionCheck(c.Key, met, c.Describe(facts, met));
                }).ToList();
                matched = checks.TrueForAll(c => c.Met);
                explanations.Add(new RuleEvaluation(rule.Rule.Id, rule.Rule.Description, rule.Rule.Outcome, matched, checks));
            }
            else
            {
                matched = AllHold(rule.Conditions, facts);
            }

            if (matched)
            {
                fired.Add(rule);
            }
        }

        if (fired.Count == 0)
        {
            return new PolicyEvaluation(Deny(NoRuleReason, policy.Hash, policy.Version, decidedAt), explanations ?? []);
        }

        var outcome = fired.Select(r => r.Rule.Outcome).MaxBy(Precedence);
        var runs = outcome == DecisionOutcome.Deny ? [] : fired.Where(r => r.Rule.Outcome != DecisionOutcome.Deny).ToList();
        var plan = ValidationPlanner.Plan(facts.Impact, [.. runs.Where(r => r.Rule.Plan is not null).Select(r => (r.Rule.Id, r.Rule.Plan!))]);
        var decision = new PolicyDecision(
            outcome,
            [.. fired.Where(r => r.Rule.Outcome == outcome).Select(r => Reason(r, facts))],
            [.. fired.Select(r => r.Rule.Id)],
            policy.Hash,
            policy.Version,
            outcome == DecisionOutcome.RequireApproval ? CombineApprovals(fired.Select(r => r.Rule.Approval).OfType<ApprovalRequirement>()) : null,
            PlanSteps.Validations(plan, UnionSteps(runs.SelectMany(r => r.Rule.Validations))),
            PlanSteps.Verifications(plan, UnionSteps(runs.SelectMany(r => r.Rule.Verifications))),
            decidedAt,
            plan);
        return new PolicyEvaluation(decision, explanations ?? []);
    }

    public static int Precedence(DecisionOutcome outcome) => outcome switch
    {
        DecisionOutcome.Deny => 2,
        DecisionOutcome.RequireApproval => 1,
        _ => 0,
    };

    private static bool AllHold(Condition[] conditions, PolicyFacts facts)
    {
        foreach (var condition in conditions)
        {
            if (!condition.Test(facts))
            {
                return false;
            }
        }

        return true;
    }

    private static PolicyDecision Deny(string reason, string hash, string version, DateTimeOffset decidedAt) =>
        new(DecisionOutcome.Deny, [reason], [], hash, version, null, [], [], decidedAt);

    /// <summary>"rule-id: description (condition; condition)": which rule decided and the facts that made it fire.</summary>
    private static string Reason(CompiledRule rule, PolicyFacts facts)
    {
        var what = rule.Rule.Description ?? rule.Rule.Outcome switch
        {
            DecisionOutcome.Deny => "denies the action",
            DecisionOutcome.RequireApproval => "requires approval",
            _ => "allows the action",
        };
        var why = rule.Conditions.Length == 0 ? "matches every proposal" : string.Join("; ", rule.Conditions.Select(c => c.Describe(facts, true)));
        return $"{rule.Rule.Id}: {what} ({why})";
    }

    private static ApprovalRequirement CombineApprovals(IEnumerable<ApprovalRequirement> approvals)
    {
        var all = approvals.ToList();
        return new ApprovalRequirement(
            all.Max(a => a.Count),
            [.. all.SelectMany(a => a.Roles).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            all.Min(a => a.ExpiresAfter),
            all.Any(a => a.ChangeRequest));
    }

    private static List<StepRequirement> UnionSteps(IEnumerable<StepRequirement> steps) =>
        [.. steps.DistinctBy(s => s.Name, StringComparer.Ordinal)];
}
