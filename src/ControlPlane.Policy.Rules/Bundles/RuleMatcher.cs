using System.Collections.Frozen;

namespace ControlPlane.Policy.Bundles;

/// <summary>
/// Which rules of a bundle fire, decided without allocating. The string-valued facts (action, environment, agent, data
/// classes) are looked up once per decision against every name the bundle uses, and each wildcard pattern is tried
/// once; a rule's name and data-class conditions then compare small ints. Every other condition is the rule's own
/// predicate, so a condition added to <see cref="CompiledPolicy"/> holds here without a change.
/// </summary>
internal sealed class RuleMatcher
{
    // Above these counts a decision's scratch comes from the heap, not the stack.
    private const int StackLimit = 256;

    private readonly NameField _actions = new();
    private readonly NameField _environments = new();
    private readonly NameField _agents = new();
    private readonly FrozenDictionary<string, int> _dataClasses;
    private readonly Check[][] _rules;

    public RuleMatcher(IReadOnlyList<CompiledRule> rules)
    {
        var dataClasses = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        _rules = new Check[rules.Count][];
        for (var r = 0; r < rules.Count; r++)
        {
            var match = rules[r].Rule.Match;
            _rules[r] = Array.ConvertAll(rules[r].Conditions, condition => condition.Key switch
            {
                "match.actions" when match.Actions is { } names => _actions.Check(CheckKind.Action, names),
                "match.environments" when match.Environments is { } names => _environments.Check(CheckKind.Environment, names),
                "match.agents" when match.Agents is { } names => _agents.Check(CheckKind.Agent, names),
                "impact.data-classes-any-of" when match.Impact?.DataClassesAnyOf is { } classes => new Check(CheckKind.DataClass,
                    [.. classes.Select(c => dataClasses.TryGetValue(c, out var id) ? id : dataClasses[c] = dataClasses.Count).Distinct()], [], null),
                _ => new Check(CheckKind.Predicate, [], [], condition.Test),
            });
        }

        _dataClasses = dataClasses.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _actions.Freeze();
        _environments.Freeze();
        _agents.Freeze();
    }

    /// <summary>Writes the indexes of the rules that fire, in bundle order, to <paramref name="fired"/> (one slot per rule) and returns how many.</summary>
    public int Match(PolicyFacts facts, Span<int> fired)
    {
        var wildcards = _actions.Wildcards + _environments.Wildcards + _agents.Wildcards;
        var rented = wildcards + _dataClasses.Count > StackLimit ? new bool[wildcards + _dataClasses.Count] : null;
        Span<bool> scratch = rented is null ? stackalloc bool[StackLimit] : rented;
        var state = new Resolved(
            _actions.Resolve(facts.ActionKind, scratch[.._actions.Wildcards]),
            _environments.Resolve(facts.Environment, scratch.Slice(_actions.Wildcards, _environments.Wildcards)),
            _agents.Resolve(facts.AgentId, scratch.Slice(_actions.Wildcards + _environments.Wildcards, _agents.Wildcards)),
            scratch.Slice(wildcards, _dataClasses.Count));
        state.DataClasses.Clear();
        var classes = facts.DataClasses;
        for (var i = 0; i < classes.Count; i++)
        {
            if (classes[i] is { } name && _dataClasses.TryGetValue(name, out var id))
            {
                state.DataClasses[id] = true;
            }
        }

        var count = 0;
        for (var r = 0; r < _rules.Length; r++)
        {
            if (AllHold(_rules[r], facts, in state))
            {
                fired[count++] = r;
            }
        }

        return count;
    }

    private static bool AllHold(Check[] checks, PolicyFacts facts, in Resolved state)
    {
        foreach (var check in checks)
        {
            var holds = check.Kind switch
            {
                CheckKind.Action => state.Action.Matches(check),
                CheckKind.Environment => state.Environment.Matches(check),
                CheckKind.Agent => state.Agent.Matches(check),
                CheckKind.DataClass => AnyOf(check.Ids, state.DataClasses),
                _ => check.Test!(facts),
            };
            if (!holds)
            {
                return false;
            }
        }

        return true;
    }

    private static bool AnyOf(int[] ids, ReadOnlySpan<bool> present)
    {
        foreach (var id in ids)
        {
            if (present[id])
            {
                return true;
            }
        }

        return false;
    }

    private enum CheckKind
    {
        Predicate,
        Action,
        Environment,
        Agent,
        DataClass,
    }

    /// <summary>One condition, compiled: ids of the exact names (or data classes) it accepts and of its wildcard patterns.</summary>
    private sealed record Check(CheckKind Kind, int[] Ids, int[] Wildcards, Func<PolicyFacts, bool>? Test);

    private readonly ref struct Resolved(ResolvedName action, ResolvedName environment, ResolvedName agent, Span<bool> dataClasses)
    {
        public ResolvedName Action { get; } = action;

        public ResolvedName Environment { get; } = environment;

        public ResolvedName Agent { get; } = agent;

        public Span<bool> DataClasses { get; } = dataClasses;
    }

    /// <summary>A fact's value as the bundle sees it: the id of the exact name it equals (-1: none) and which wildcards match it.</summary>
    private readonly ref struct ResolvedName(bool present, int exact, ReadOnlySpan<bool> wildcards)
    {
        private readonly ReadOnlySpan<bool> _wildcards = wildcards;

        public bool Matches(Check check)
        {
            if (!present)
            {
                return false;
            }

            foreach (var id in check.Ids)
            {
                if (id == exact)
                {
                    return true;
                }
            }

            foreach (var id in check.Wildcards)
            {
                if (_wildcards[id])
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Every exact name and wildcard pattern the bundle matches one fact against (exact names case-insensitive, as <see cref="NamePatterns"/>).</summary>
    private sealed class NameField
    {
        private readonly Dictionary<string, int> _building = new(StringComparer.OrdinalIgnoreCase);
        private readonly List<string> _patterns = [];
        private FrozenDictionary<string, int> _exact = FrozenDictionary<string, int>.Empty;
        private string[] _wildcards = [];

        public int Wildcards => _wildcards.Length;

        public Check Check(CheckKind kind, IReadOnlyList<string> names)
        {
            var exact = new List<int>();
            var wildcards = new List<int>();
            foreach (var name in names)
            {
                if (name.Contains('*', StringComparison.Ordinal))
                {
                    var at = _patterns.IndexOf(name);
                    wildcards.Add(at >= 0 ? at : Add(_patterns, name));
                }
                else
                {
                    exact.Add(_building.TryGetValue(name, out var id) ? id : _building[name] = _building.Count);
                }
            }

            return new Check(kind, [.. exact.Distinct()], [.. wildcards.Distinct()], null);
        }

        public void Freeze()
        {
            _exact = _building.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
            _wildcards = [.. _patterns];
        }

        public ResolvedName Resolve(string? value, Span<bool> wildcards)
        {
            if (value is null)
            {
                return new ResolvedName(false, -1, wildcards);
            }

            for (var i = 0; i < _wildcards.Length; i++)
            {
                wildcards[i] = NamePatterns.WildcardMatch(_wildcards[i], value);
            }

            return new ResolvedName(true, _exact.TryGetValue(value, out var id) ? id : -1, wildcards);
        }

        private static int Add(List<string> list, string value)
        {
            list.Add(value);
            return list.Count - 1;
        }
    }
}
