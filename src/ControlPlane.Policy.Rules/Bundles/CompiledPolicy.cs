using System.Collections.Frozen;
using System.Text;
using ControlPlane.Contracts;

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

    internal CompiledRule[] Rules { get; }

    /// <summary>How many rules the bundle has: the size of the span a verdict writes the fired rules' indexes to.</summary>
    public int RuleCount => Rules.Length;

    /// <summary>The rules' conditions over names and data classes as int comparisons, for deciding without allocating.</summary>
    internal RuleMatcher Matcher { get; }

    /// <summary>The window lengths the rules' track-record conditions use: the decision's facts count the agent's record once per window.</summary>
    public IReadOnlyList<TimeSpan> TrackRecordWindows { get; }

    /// <summary>The bundle's content hash: whitespace, comments, key order and list order of sets do not change it.</summary>
    public static string HashOf(PolicyBundle bundle) => CanonicalJson.Hash(bundle);

    /// <summary>The rule at <paramref name="index"/> (an index a verdict wrote): its id, for naming a fired rule without allocating.</summary>
    public string RuleId(int index) => Rules[index].Rule.Id;

    /// <summary>The outcome of the rule at <paramref name="index"/>: a fired rule decides when it equals the verdict's outcome.</summary>
    public DecisionOutcome RuleOutcome(int index) => Rules[index].Rule.Outcome;

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
            foreach (var condition in ImpactConditions.Of(impact))
            {
                yield return condition;
            }
        }

        if (match.Change?.RollbackPlan is { } rollback)
        {
            yield return new Condition("change.rollback-plan", f => f.RollbackPlanPresent == rollback,
                (b, f, _) => b.Append(f.RollbackPlanPresent ? "rollback plan present" : "rollback plan absent"));
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
        var absent = $"no {noun} given";
        return new Condition($"match.{key}", f => value(f) is { } v && names.Matches(v),
            (b, f, met) => value(f) is { } v ? b.Append($"{noun} '{v}' is {(met ? string.Empty : "not ")}in [{listed}]") : b.Append(absent));
    }
}

/// <summary>
/// Writes how the facts fared against one condition (met or not) into a reason being built: a decision's reason is
/// one string, not one per condition.
/// </summary>
internal delegate StringBuilder ConditionWriter(StringBuilder into, PolicyFacts facts, bool met);

/// <summary>One condition of a rule: a predicate over the facts and a sentence saying how the facts fared.</summary>
internal sealed record Condition(string Key, Func<PolicyFacts, bool> Test, ConditionWriter Write)
{
    // One builder per thread for the sentences of an explanation (each is copied out before the next is written).
    [ThreadStatic]
    private static StringBuilder? sentence;

    /// <summary>The sentence on its own (the explained dry run); a decision's reason has <see cref="Write"/> append it.</summary>
    public string Describe(PolicyFacts facts, bool met) => Write((sentence ??= new StringBuilder(256)).Clear(), facts, met).ToString();
}

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
