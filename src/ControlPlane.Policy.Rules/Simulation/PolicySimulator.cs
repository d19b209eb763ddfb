using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;

namespace ControlPlane.Policy.Simulation;

/// <summary>A decision as it was taken: the facts policy had (proposal + the impact it had) and what it decided then.</summary>
public sealed record RecordedDecision(Guid ProposalId, DateTimeOffset DecidedAt, PolicyFacts Facts, DecisionOutcome Outcome, IReadOnlyList<string> RulesFired,
    string BundleHash);

/// <summary>
/// A decision the candidate would take differently: another outcome (OutcomeChanged), or the same outcome for other
/// rules (a reason, approval or plan that would change with them). Rules are sorted.
/// </summary>
public sealed record SimulatedChange(
    Guid ProposalId,
    string Environment,
    string? AgentId,
    string ActionKind,
    DateTimeOffset DecidedAt,
    DecisionOutcome From,
    DecisionOutcome To,
    bool OutcomeChanged,
    IReadOnlyList<string> RulesBefore,
    IReadOnlyList<string> RulesAfter);

/// <summary>Counts for one environment or agent: replayed, outcome changed, same outcome with other rules.</summary>
public sealed record SimulationCounts(string Key, int Replayed, int Changed, int RulesOnly);

/// <summary>
/// What a candidate bundle would have done to recorded decisions. Totals: Replayed = Unchanged + Changed + RulesOnly.
/// Changes lists every changed decision (outcome first, then rules only), newest first within each.
/// </summary>
public sealed record SimulationReport(
    string CandidateHash,
    int Replayed,
    int Unchanged,
    int Changed,
    int RulesOnly,
    IReadOnlyList<SimulatedChange> Changes,
    IReadOnlyList<SimulationCounts> ByEnvironment,
    IReadOnlyList<SimulationCounts> ByAgent);

/// <summary>
/// Replays recorded decisions against a candidate bundle, exactly as policy would decide them now (the outcome and
/// fired rules <see cref="PolicyEvaluator.Decide"/> would give on the recorded facts, found by the allocation-free
/// verdict: a replay compares only these), and reports every decision that would change. Pure: no I/O; the caller
/// passes the replay time (the verdict does not read it today: time-dependent facts, the track record, are in the facts).
/// </summary>
public static class PolicySimulator
{
    /// <summary>The key agent-less decisions are counted under.</summary>
    public const string NoAgent = "(none)";

    public static SimulationReport Run(IReadOnlyList<RecordedDecision> recorded, CompiledPolicy candidate, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        ArgumentNullException.ThrowIfNull(candidate);
        var changes = new List<SimulatedChange>();
        var byEnvironment = new Dictionary<string, int[]>(StringComparer.Ordinal);
        var byAgent = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var decision in recorded)
        {
            // Only the outcome and the fired rules are compared: the verdict, without the decision's words.
            var now = PolicyEvaluator.Outcome(candidate, decision.Facts);
            var before = decision.RulesFired.Order(StringComparer.Ordinal).ToList();
            var after = now.RulesFired.Order(StringComparer.Ordinal).ToList();
            var outcomeChanged = now.Outcome != decision.Outcome;
            var rulesChanged = !before.SequenceEqual(after, StringComparer.Ordinal);
            var column = outcomeChanged ? 1 : rulesChanged ? 2 : -1;
            Count(byEnvironment, decision.Facts.Environment, column);
            Count(byAgent, decision.Facts.AgentId ?? NoAgent, column);
            if (column > 0)
            {
                changes.Add(new SimulatedChange(decision.ProposalId, decision.Facts.Environment, decision.Facts.AgentId, decision.Facts.ActionKind,
                    decision.DecidedAt, decision.Outcome, now.Outcome, outcomeChanged, before, after));
            }
        }

        var changed = changes.Count(c => c.OutcomeChanged);
        return new SimulationReport(candidate.Hash, recorded.Count, recorded.Count - changes.Count, changed, changes.Count - changed,
            [.. changes.OrderByDescending(c => c.OutcomeChanged).ThenByDescending(c => c.DecidedAt).ThenBy(c => c.ProposalId)],
            Counts(byEnvironment), Counts(byAgent));
    }

    private static void Count(Dictionary<string, int[]> counts, string key, int column)
    {
        if (!counts.TryGetValue(key, out var row))
        {
            counts[key] = row = new int[3];
        }

        row[0]++;
        if (column > 0)
        {
            row[column]++;
        }
    }

    private static List<SimulationCounts> Counts(Dictionary<string, int[]> counts) =>
        [.. counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => new SimulationCounts(c.Key, c.Value[0], c.Value[1], c.Value[2]))];
}
