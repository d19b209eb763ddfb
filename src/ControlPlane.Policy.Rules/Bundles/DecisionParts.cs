using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Policy.Validation;

namespace ControlPlane.Policy.Bundles;

/// <summary>
/// What a decision carries besides its outcome, built from the fired rules (indexes into the bundle's rules, in
/// bundle order) with as few objects as the record needs: each reason is written into one per-thread builder, the
/// approval's roles are the fired rules' own (precomputed) list when they agree, and steps are unioned in a
/// per-thread scratch list, copied once to an array of the exact size.
/// </summary>
internal static class DecisionParts
{
    // Steps compared by name one by one up to this many; more get a set.
    private const int LinearSteps = 8;

    // A builder that grew past this for one huge reason is not kept for the thread.
    private const int KeptReasonCapacity = 4096;

    [ThreadStatic]
    private static StringBuilder? reasonBuilder;

    [ThreadStatic]
    private static List<StepRequirement>? stepScratch;

    [ThreadStatic]
    private static HashSet<string>? stepNames;

    /// <summary>"rule-id: description (condition; condition)": which rule decided and the facts that made it fire.</summary>
    public static string Reason(CompiledRule rule, PolicyFacts facts)
    {
        if (rule.FixedReason is { } fixedReason)
        {
            return fixedReason;
        }

        var text = reasonBuilder ??= new StringBuilder(512);
        text.Clear().Append(rule.ReasonPrefix);
        var conditions = rule.Conditions;
        for (var i = 0; i < conditions.Length; i++)
        {
            if (i > 0)
            {
                text.Append("; ");
            }

            conditions[i].Write(text, facts, true);
        }

        var reason = text.Append(')').ToString();
        if (text.Capacity > KeptReasonCapacity)
        {
            reasonBuilder = null;
        }

        return reason;
    }

    /// <summary>The approvals of the fired rules combined: the largest count, the union of roles (sorted), the shortest expiry.</summary>
    public static ApprovalRequirement CombineApprovals(CompiledRule[] rules, ReadOnlySpan<int> fired)
    {
        CompiledRule? first = null;
        var count = 0;
        var expiry = TimeSpan.Zero;
        var changeRequest = false;
        var sameRoles = true;
        foreach (var r in fired)
        {
            if (rules[r].Rule.Approval is not { } approval)
            {
                continue;
            }

            if (first is null)
            {
                first = rules[r];
                (count, expiry, changeRequest) = (approval.Count, approval.ExpiresAfter, approval.ChangeRequest);
                continue;
            }

            count = Math.Max(count, approval.Count);
            expiry = approval.ExpiresAfter < expiry ? approval.ExpiresAfter : expiry;
            changeRequest |= approval.ChangeRequest;
            sameRoles = sameRoles && SameRoles(first.ApprovalRoles, rules[r].ApprovalRoles);
        }

        if (first is null)
        {
            throw new InvalidOperationException("A require-approval decision needs at least one fired rule with an approval requirement.");
        }

        return new ApprovalRequirement(count, sameRoles ? first.ApprovalRoles : UnionRoles(rules, fired), expiry, changeRequest);
    }

    /// <summary>The validation-plan blocks of the fired non-deny rules, in bundle order; null when none has one.</summary>
    public static List<(string RuleId, ValidationPlanRule Plan)>? PlanRules(CompiledRule[] rules, ReadOnlySpan<int> fired)
    {
        List<(string, ValidationPlanRule)>? plans = null;
        foreach (var r in fired)
        {
            if (rules[r].Rule is { Plan: { } plan, Outcome: not DecisionOutcome.Deny } rule)
            {
                (plans ??= []).Add((rule.Id, plan));
            }
        }

        return plans;
    }

    /// <summary>The validations (or verifications) of the fired non-deny rules, unioned by name: the first rule to name a step defines it.</summary>
    public static StepRequirement[] UnionSteps(CompiledRule[] rules, ReadOnlySpan<int> fired, bool verifications)
    {
        var union = stepScratch ??= [];
        HashSet<string>? names = null;
        foreach (var r in fired)
        {
            var rule = rules[r].Rule;
            if (rule.Outcome == DecisionOutcome.Deny)
            {
                continue;
            }

            var steps = verifications ? rule.Verifications : rule.Validations;
            for (var i = 0; i < steps.Count; i++)
            {
                var step = steps[i];
                if (names is null && union.Count >= LinearSteps)
                {
                    names = stepNames ??= new HashSet<string>(StringComparer.Ordinal);
                    foreach (var known in union)
                    {
                        names.Add(known.Name);
                    }
                }

                if (names?.Add(step.Name) ?? !Named(union, step.Name))
                {
                    union.Add(step);
                }
            }
        }

        StepRequirement[] result = union.Count == 0 ? [] : [.. union];
        // Cleared, not dropped: the scratch keeps its capacity but no step of this bundle.
        union.Clear();
        names?.Clear();
        return result;
    }

    private static bool Named(List<StepRequirement> steps, string name)
    {
        foreach (var step in steps)
        {
            if (string.Equals(step.Name, name, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    // An indexed loop: LINQ's SequenceEqual would box two enumerators per rule.
    private static bool SameRoles(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (var i = 0; i < a.Count; i++)
        {
            if (!string.Equals(a[i], b[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Fired rules that ask for different roles: every role once, sorted (ordinal).</summary>
    private static string[] UnionRoles(CompiledRule[] rules, ReadOnlySpan<int> fired)
    {
        var roles = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var r in fired)
        {
            roles.UnionWith(rules[r].ApprovalRoles);
        }

        return [.. roles];
    }
}
