using System.Buffers;
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
/// Pure: no I/O, no clock (the caller passes the decision time). <see cref="Verdict"/> is the decision without its
/// words (outcome and fired rules, no allocation); <see cref="Decide"/> is the verdict rendered into the record.
/// </summary>
public static class PolicyEvaluator
{
    public const string NoBundleReason = "no active policy bundle";
    public const string NoRuleReason = "no rule matched";

    /// <summary>Bundle hash and version named by a decision taken without a bundle.</summary>
    public const string NoBundle = "none";

    // Rules a decision tracks on the stack; a larger bundle rents its scratch.
    private const int StackRules = 256;

    // The fail-closed denies' reasons: fixed, so every such decision shares one read-only list.
    private static readonly IReadOnlyList<string> NoBundleReasons = Array.AsReadOnly([NoBundleReason]);
    private static readonly IReadOnlyList<string> NoRuleReasons = Array.AsReadOnly([NoRuleReason]);

    public static PolicyDecision Decide(CompiledPolicy? policy, PolicyFacts facts, DateTimeOffset decidedAt)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (policy is null)
        {
            return Deny(NoBundleReasons, NoBundle, NoBundle, decidedAt);
        }

        // The verdict is found without allocating; only the decision and what it carries are new objects.
        var rented = policy.RuleCount > StackRules ? ArrayPool<int>.Shared.Rent(policy.RuleCount) : null;
        var fired = rented is null ? stackalloc int[StackRules] : rented;
        try
        {
            var verdict = Verdict(policy, facts, fired);
            return Decision(policy, verdict, fired[..verdict.Fired], facts, decidedAt);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// The outcome and the rules that fired, without words and without allocating: the indexes of the fired rules, in
    /// bundle order, are written to <paramref name="fired"/> (at least <see cref="CompiledPolicy.RuleCount"/> long).
    /// </summary>
    public static PolicyVerdict Verdict(CompiledPolicy? policy, PolicyFacts facts, Span<int> fired)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (policy is null)
        {
            return PolicyVerdict.NoBundle;
        }

        if (fired.Length < policy.RuleCount)
        {
            throw new ArgumentException("The span needs one slot per rule of the bundle.", nameof(fired));
        }

        var count = policy.Matcher.Match(facts, fired);
        return Verdict(policy.Rules, fired[..count]);
    }

    /// <summary>
    /// The outcome and the ids of the fired rules (bundle order) as <see cref="Decide"/> gives them, without the
    /// reasons, approval and steps: for replays and bundle tests, which compare only these.
    /// </summary>
    public static (DecisionOutcome Outcome, string[] RulesFired) Outcome(CompiledPolicy? policy, PolicyFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (policy is null)
        {
            return (DecisionOutcome.Deny, []);
        }

        var fired = ArrayPool<int>.Shared.Rent(policy.RuleCount);
        try
        {
            var verdict = Verdict(policy, facts, fired);
            var ids = new string[verdict.Fired];
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = policy.RuleId(fired[i]);
            }

            return (verdict.Outcome, ids);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(fired);
        }
    }

    public static PolicyEvaluation Explain(CompiledPolicy? policy, PolicyFacts facts, DateTimeOffset decidedAt)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (policy is null)
        {
            return new PolicyEvaluation(Deny(NoBundleReasons, NoBundle, NoBundle, decidedAt), []);
        }

        var fired = new List<int>();
        var explanations = new List<RuleEvaluation>(policy.RuleCount);
        for (var r = 0; r < policy.RuleCount; r++)
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

        var span = CollectionsMarshal.AsSpan(fired);
        return new PolicyEvaluation(Decision(policy, Verdict(policy.Rules, span), span, facts, decidedAt), explanations);
    }

    public static int Precedence(DecisionOutcome outcome) => outcome switch
    {
        DecisionOutcome.Deny => 2,
        DecisionOutcome.RequireApproval => 1,
        _ => 0,
    };

    /// <summary>The outcome of the fired rules (indexes into the bundle's rules, in bundle order) and how many decide it.</summary>
    private static PolicyVerdict Verdict(CompiledRule[] rules, ReadOnlySpan<int> fired)
    {
        if (fired.IsEmpty)
        {
            return new PolicyVerdict(DecisionOutcome.Deny, 0, 0, true);
        }

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

        return new PolicyVerdict(outcome, fired.Length, deciding, true);
    }

    /// <summary>The verdict in words: the reasons of the deciding rules, the fired rules' ids, and for a non-deny what must happen.</summary>
    private static PolicyDecision Decision(CompiledPolicy policy, PolicyVerdict verdict, ReadOnlySpan<int> fired, PolicyFacts facts, DateTimeOffset decidedAt)
    {
        if (verdict.Fired == 0)
        {
            return Deny(NoRuleReasons, policy.Hash, policy.Version, decidedAt);
        }

        var rules = policy.Rules;
        var outcome = verdict.Outcome;
        var reasons = new string[verdict.Deciding];
        var ids = new string[fired.Length];
        var next = 0;
        for (var i = 0; i < fired.Length; i++)
        {
            var rule = rules[fired[i]];
            ids[i] = rule.Rule.Id;
            if (rule.Rule.Outcome == outcome)
            {
                reasons[next++] = DecisionParts.Reason(rule, facts);
            }
        }

        if (outcome == DecisionOutcome.Deny)
        {
            return new PolicyDecision(outcome, reasons, ids, policy.Hash, policy.Version, null, [], [], decidedAt);
        }

        // No impact report, or no fired rule with a plan block: there is nothing to plan (the planner would say null).
        var plan = facts.Impact is { } impact && DecisionParts.PlanRules(rules, fired) is { } planRules ? ValidationPlanner.Plan(impact, planRules) : null;
        return new PolicyDecision(
            outcome,
            reasons,
            ids,
            policy.Hash,
            policy.Version,
            outcome == DecisionOutcome.RequireApproval ? DecisionParts.CombineApprovals(rules, fired) : null,
            PlanSteps.Validations(plan, DecisionParts.UnionSteps(rules, fired, verifications: false)),
            PlanSteps.Verifications(plan, DecisionParts.UnionSteps(rules, fired, verifications: true)),
            decidedAt,
            plan);
    }

    private static PolicyDecision Deny(IReadOnlyList<string> reasons, string hash, string version, DateTimeOffset decidedAt) =>
        new(DecisionOutcome.Deny, reasons, [], hash, version, null, [], [], decidedAt);
}
