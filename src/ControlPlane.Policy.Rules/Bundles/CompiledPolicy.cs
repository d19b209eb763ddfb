using System.Collections.Frozen;
using ControlPlane.Contracts;
using ControlPlane.Policy.Validation;

namespace ControlPlane.Policy.Bundles;

/// <summary>
/// A bundle ready to evaluate: each rule's conditions turned into predicates once, with its content hash (the
/// canonical JSON of the parsed bundle) and the version it was stored under ("inline" for a dry-run bundle).
/// </summary>
public sealed class CompiledPolicy
{
    public CompiledPolicy(PolicyBundle bundle, string version)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        Bundle = bundle;
        Version = version;
        Hash = HashOf(bundle);
        Rules = [.. bundle.Rules.Select(r => new CompiledRule(r, [.. Conditions(r.Match)]))];
        Matcher = new RuleMatcher(Rules);
        TrackRecordWindows = [.. bundle.Rules.Select(r => r.Match.TrackRecord).OfType<TrackRecordMatch>().Select(t => t.Window).Distinct().Order()];
    }

    public PolicyBundle Bundle { get; }

    public string Hash { get; }

    public string Version { get; }

    internal IReadOnlyList<CompiledRule> Rules { get; }

    /// <summary>The rules' conditions over names and data classes as int comparisons, for deciding without allocating.</summary>
    internal RuleMatcher Matcher { get; }

    /// <summary>The window lengths the rules' track-record conditions use: the decision's facts count the agent's record once per window.</summary>
    public IReadOnlyList<TimeSpan> TrackRecordWindows { get; }

    /// <summary>The bundle's content hash: whitespace, comments, key order and list order of sets do not change it.</summary>
    public static string HashOf(PolicyBundle bundle) => CanonicalJson.Hash(bundle);

    private static IEnumerable<Condition> Conditions(RuleMatch match)
    {
        if (match.Actions is { } actions)
        {
            yield return NameCondition("actions", "action", actions, f => f.ActionKind);
        }

        if (match.Environments is { } environments)
        {
            yield return NameCondition("environments", "environment", environments, f => f.Environment);
        }

        if (match.Agents is { } agents)
        {
            yield return NameCondition("agents", "agent", agents, f => f.AgentId);
        }

        if (match.Impact is { } impact)
        {
            if (impact.HighestCriticalityAtMost is { } most)
            {
                yield return new Condition("impact.highest-criticality-at-most", f => f.HighestCriticality <= most,
                    (f, met) => f.HighestCriticality is { } t
                        ? $"highest criticality tier {t} is {(met ? "at most" : "above")} {most}"
                        : "no known node is touched, so there is no criticality tier");
            }

            if (impact.HighestCriticalityAtLeast is { } least)
            {
                yield return new Condition("impact.highest-criticality-at-least", f => f.HighestCriticality >= least,
                    (f, met) => f.HighestCriticality is { } t
                        ? $"highest criticality tier {t} is {(met ? "at least" : "below")} {least}"
                        : "no known node is touched, so there is no criticality tier");
            }

            if (impact.RevenuePath is { } revenue)
            {
                yield return new Condition("impact.revenue-path", f => f.RevenuePath == revenue,
                    (f, _) => f.RevenuePath ? "revenue path touched" : "revenue path not touched");
            }

            if (impact.DataClassesAnyOf is { } classes)
            {
                var wanted = classes.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
                yield return new Condition("impact.data-classes-any-of", f => f.DataClasses.Any(wanted.Contains),
                    (f, met) => met
                        ? $"{string.Join(", ", f.DataClasses.Where(wanted.Contains))} data touched"
                        : $"data classes [{string.Join(", ", f.DataClasses)}] include none of [{string.Join(", ", classes)}]");
            }

            if (impact.DependentsAtLeast is { } atLeast)
            {
                yield return new Condition("impact.dependents-at-least", f => f.Dependents >= atLeast,
                    (f, met) => $"{f.Dependents} dependents, {(met ? "at least" : "fewer than")} {atLeast}");
            }

            if (impact.DependentsAtMost is { } atMost)
            {
                yield return new Condition("impact.dependents-at-most", f => f.Dependents <= atMost,
                    (f, met) => $"{f.Dependents} dependents, {(met ? "at most" : "more than")} {atMost}");
            }

            if (impact.InternetExposed is { } exposed)
            {
                yield return new Condition("impact.internet-exposed", f => f.InternetExposed == exposed,
                    (f, _) => f.InternetExposed ? "internet-exposed node touched" : "no internet-exposed node touched");
            }

            if (impact.DriftDetected is { } drift)
            {
                yield return new Condition("impact.drift-detected", f => f.DriftDetected == drift,
                    (f, _) => f.DriftDetected
                        ? $"a target was deployed outside the plane{(f.DriftSince is { } since ? $" since {since.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}" : string.Empty)}"
                        : "no deployment outside the plane on the targets");
            }

            if (impact.Reachable is { } reachable)
            {
                yield return new Condition("impact.reachable", f => ReachabilityFacts.IsReachable(f) == reachable,
                    (f, _) => (ReachabilityFacts.IsReachable(f) ? "outside traffic reaches the impact" : "outside traffic reaches no affected node") + ReachabilityFacts.Unknown(f));
            }

            if (impact.ReachableDataClassesAnyOf is { } reachableClasses)
            {
                var wanted = reachableClasses.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
                yield return new Condition("impact.reachable-data-classes-any-of", f => ReachabilityFacts.DataClasses(f).Any(wanted.Contains),
                    (f, met) => (met
                        ? $"{string.Join(", ", ReachabilityFacts.DataClasses(f).Where(wanted.Contains))} data reachable from outside"
                        : $"reachable data classes [{string.Join(", ", ReachabilityFacts.DataClasses(f))}] include none of [{string.Join(", ", reachableClasses)}]") + ReachabilityFacts.Unknown(f));
            }

            if (impact.ReachableDependentsAtLeast is { } reachableAtLeast)
            {
                yield return new Condition("impact.reachable-dependents-at-least", f => ReachabilityFacts.Dependents(f) >= reachableAtLeast,
                    (f, met) => $"{ReachabilityFacts.Dependents(f)} reachable dependents, {(met ? "at least" : "fewer than")} {reachableAtLeast}{ReachabilityFacts.Unknown(f)}");
            }

            if (impact.UnknownTargets is { } unknown)
            {
                yield return new Condition("impact.unknown-targets", f => f.UnknownTargets == unknown,
                    (f, _) => f.UnknownTargets ? "unknown targets present" : "no unknown targets");
            }
        }

        if (match.Change?.RollbackPlan is { } rollback)
        {
            yield return new Condition("change.rollback-plan", f => f.RollbackPlanPresent == rollback,
                (f, _) => f.RollbackPlanPresent ? "rollback plan present" : "rollback plan absent");
        }

        foreach (var condition in match.TrackRecord is { } record ? TrackRecordConditions.Of(record) : [])
        {
            yield return condition;
        }
    }

    private static Condition NameCondition(string key, string noun, IReadOnlyList<string> patterns, Func<PolicyFacts, string?> value)
    {
        var names = new NamePatterns(patterns);
        var listed = string.Join(", ", patterns);
        return new Condition($"match.{key}", f => value(f) is { } v && names.Matches(v),
            (f, met) => value(f) is { } v ? $"{noun} '{v}' is {(met ? string.Empty : "not ")}in [{listed}]" : $"no {noun} given");
    }
}

/// <summary>One condition of a rule: a predicate over the facts and a sentence saying how the facts fared.</summary>
internal sealed record Condition(string Key, Func<PolicyFacts, bool> Test, Func<PolicyFacts, bool, string> Describe);

internal sealed record CompiledRule(PolicyRule Rule, Condition[] Conditions);

/// <summary>Names matched exactly (case-insensitive) or by "*" wildcards: "delete-*", "*-prod", "*".</summary>
internal sealed class NamePatterns
{
    private readonly FrozenSet<string> _exact;
    private readonly string[] _wildcards;

    public NamePatterns(IEnumerable<string> patterns)
    {
        var all = patterns.ToList();
        _exact = all.Where(p => !p.Contains('*', StringComparison.Ordinal)).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        _wildcards = [.. all.Where(p => p.Contains('*', StringComparison.Ordinal))];
    }

    public bool Matches(string value)
    {
        if (_exact.Contains(value))
        {
            return true;
        }

        foreach (var pattern in _wildcards)
        {
            if (WildcardMatch(pattern, value))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Greedy wildcard match with backtracking to the last "*": linear in practice, no regex.</summary>
    internal static bool WildcardMatch(string pattern, string value)
    {
        int p = 0, v = 0, star = -1, resume = 0;
        while (v < value.Length)
        {
            if (p < pattern.Length && pattern[p] != '*' && char.ToLowerInvariant(pattern[p]) == char.ToLowerInvariant(value[v]))
            {
                p++;
                v++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = v;
            }
            else if (star >= 0)
            {
                p = star + 1;
                v = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
