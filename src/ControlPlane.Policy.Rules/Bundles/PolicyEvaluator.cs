using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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

    // Rules a decision tracks on the stack; a larger bundle rents its scratch.
    private const int StackRules = 256;

    public static PolicyDecision Decide(CompiledPolicy? policy, PolicyFacts facts, DateTimeOffset decidedAt)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (policy is null)
        {
            return Deny(NoBundleReason, NoBundle, NoBundle, decidedAt);
        }

        // Which rules fire is found without allocating; only the decision and what it carries are new objects.
        var rented = policy.Rules.Count > StackRules ? ArrayPool<int>.Shared.Rent(policy.Rules.Count) : null;
        var fired = rented is null ? stackalloc int[StackRules] : rented;
        try
        {
            var count = policy.Matcher.Match(facts, fired);
            return Decision(policy, fired[..count], facts, decidedAt);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }
    }

    public static PolicyEvaluation Explain(CompiledPolicy? policy, PolicyFacts facts, DateTimeOffset decidedAt)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (policy is null)
        {
            return new PolicyEvaluation(Deny(NoBundleReason, NoBundle, NoBundle, decidedAt), []);
        }

        var fired = new List<int>();
        var explanations = new List<RuleEvaluation>(policy.Rules.Count);
        for (var r = 0; r < policy.Rules.Count; r++)
        {
            var rule = policy.Rules[r];
            var checks = rule.Conditions.Select(c =>
            {
                var met = c.Test(facts);
                return new ConditionCheck(c.Key, met, c.Describe(facts, met));
            }).ToList();
            var matched = checks.TrueForAll(c => c.Met);
            explanations.Add(new RuleEvaluation(rule.Rule.Id, rule.Rule.Description, rule.Rule.Outcome, matched, checks));
            if (matched)
            {
                fired.Add(r);
            }
        }

        return new PolicyEvaluation(Decision(policy, CollectionsMarshal.AsSpan(fired), facts, decidedAt), explanations);
    }

    /// <summary>The decision of the fired rules (indexes into the bundle's rules, in bundle order).</summary>
    private static PolicyDecision Decision(CompiledPolicy policy, ReadOnlySpan<int> fired, PolicyFacts facts, DateTimeOffset decidedAt)
    {
        if (fired.IsEmpty)
        {
            return Deny(NoRuleReason, policy.Hash, policy.Version, decidedAt);
        }

        var rules = policy.Rules;
        var outcome = rules[fired[0]].Rule.Outcome;
        var deciding = 0;
        foreach (var r in fired)
        {
            var ruleOutcome = rules[r].Rule.Outcome;
            if (Precedence(ruleOutcome) > Precedence(outcome))
            {
                outcome = ruleOutcome;
                deciding = 0;
            }

            deciding += ruleOutcome == outcome ? 1 : 0;
        }

        var reasons = new string[deciding];
        var ids = new string[fired.Length];
        var next = 0;
        for (var i = 0; i < fired.Length; i++)
        {
            var rule = rules[fired[i]];
            ids[i] = rule.Rule.Id;
            if (rule.Rule.Outcome == outcome)
            {
                reasons[next++] = Reason(rule, facts);
            }
        }

        var plan = outcome == DecisionOutcome.Deny ? null : ValidationPlanner.Plan(facts.Impact, PlanRules(rules, fired));
        return new PolicyDecision(
            outcome,
            reasons,
            ids,
            policy.Hash,
            policy.Version,
            outcome == DecisionOutcome.RequireApproval ? CombineApprovals(rules, fired) : null,
            outcome == DecisionOutcome.Deny ? [] : PlanSteps.Validations(plan, UnionSteps(rules, fired, r => r.Validations)),
            outcome == DecisionOutcome.Deny ? [] : PlanSteps.Verifications(plan, UnionSteps(rules, fired, r => r.Verifications)),
            decidedAt,
            plan);
    }

    public static int Precedence(DecisionOutcome outcome) => outcome switch
    {
        DecisionOutcome.Deny => 2,
        DecisionOutcome.RequireApproval => 1,
        _ => 0,
    };

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
        // Written into a stack buffer: the reason is the only string made, besides each condition's sentence.
        var text = new DefaultInterpolatedStringHandler(0, 0, null, stackalloc char[512]);
        text.AppendFormatted(rule.Rule.Id);
        text.AppendLiteral(": ");
        text.AppendFormatted(what);
        text.AppendLiteral(" (");
        if (rule.Conditions.Length == 0)
        {
            text.AppendLiteral("matches every proposal");
        }

        for (var i = 0; i < rule.Conditions.Length; i++)
        {
            if (i > 0)
            {
                text.AppendLiteral("; ");
            }

            text.AppendFormatted(rule.Conditions[i].Describe(facts, true));
        }

        text.AppendLiteral(")");
        return text.ToStringAndClear();
    }

    /// <summary>The approvals of the fired rules combined: the largest count, the union of roles (sorted), the shortest expiry.</summary>
    private static ApprovalRequirement CombineApprovals(IReadOnlyList<CompiledRule> rules, ReadOnlySpan<int> fired)
    {
        ApprovalRequirement? combined = null;
        var roles = new List<string>();
        foreach (var r in fired)
        {
            if (rules[r].Rule.Approval is not { } approval)
            {
                continue;
            }

            roles.AddRange(approval.Roles);
            combined = combined is null
                ? approval
                : new ApprovalRequirement(Math.Max(combined.Count, approval.Count), [], combined.ExpiresAfter < approval.ExpiresAfter ? combined.ExpiresAfter : approval.ExpiresAfter,
                    combined.ChangeRequest || approval.ChangeRequest);
        }

        if (combined is null)
        {
            throw new InvalidOperationException("A require-approval decision needs at least one fired rule with an approval requirement.");
        }

        roles.Sort(StringComparer.Ordinal);
        var distinct = new List<string>(roles.Count);
        foreach (var role in roles)
        {
            if (distinct.Count == 0 || !string.Equals(distinct[^1], role, StringComparison.Ordinal))
            {
                distinct.Add(role);
            }
        }

        return combined with { Roles = distinct };
    }

    /// <summary>The validation-plan blocks of the fired non-deny rules, in bundle order.</summary>
    private static List<(string RuleId, ValidationPlanRule Plan)> PlanRules(IReadOnlyList<CompiledRule> rules, ReadOnlySpan<int> fired)
    {
        var plans = new List<(string, ValidationPlanRule)>();
        foreach (var r in fired)
        {
            if (rules[r].Rule is { Plan: { } plan, Outcome: not DecisionOutcome.Deny } rule)
            {
                plans.Add((rule.Id, plan));
            }
        }

        return plans;
    }

    /// <summary>The steps of the fired non-deny rules, unioned by name: the first rule to name a step defines it.</summary>
    private static List<StepRequirement> UnionSteps(IReadOnlyList<CompiledRule> rules, ReadOnlySpan<int> fired, Func<PolicyRule, IReadOnlyList<StepRequirement>> steps)
    {
        var union = new List<StepRequirement>();
        HashSet<string>? names = null;
        foreach (var r in fired)
        {
            if (rules[r].Rule.Outcome == DecisionOutcome.Deny)
            {
                continue;
            }

            foreach (var step in steps(rules[r].Rule))
            {
                // A few steps are compared by name; many get a set.
                if (names is null && union.Count >= 8)
                {
                    names = new HashSet<string>(union.Select(s => s.Name), StringComparer.Ordinal);
                }

                if (names?.Add(step.Name) ?? !union.Exists(s => string.Equals(s.Name, step.Name, StringComparison.Ordinal)))
                {
                    union.Add(step);
                }
            }
        }

        return union;
    }
}
