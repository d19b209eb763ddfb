using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;

namespace ControlPlane.Policy.Autonomy;

/// <summary>The agent's counts in one window a rule uses.</summary>
public sealed record TrackRecordStanding(string Window, int VerifiedSuccesses, int Failures, int Rollbacks);

/// <summary>
/// One thing the agent must still earn for a rule to stop holding it back: an allow rule's unmet track-record
/// condition, or the condition that makes an approval (or deny) rule fire. MoreVerifiedSuccesses or Until (when the
/// oldest rollback or failure in the way leaves the window, provided no new one happens) says how far it is.
/// </summary>
public sealed record EarningStep(string RuleId, DecisionOutcome Outcome, string Condition, string Window, int? MoreVerifiedSuccesses, DateTimeOffset? Until, string Text);

/// <summary>The agent's track record for one environment × action kind and what is left to earn ("13 more verified successes; no rollback for 12 more days").</summary>
public sealed record EarnedAutonomy(IReadOnlyList<TrackRecordStanding> Windows, IReadOnlyList<EarningStep> ToEarn, string Summary);

/// <summary>
/// Works out earned autonomy from the policy's explanation of the agent's real track record: for every rule with a
/// track-record block whose other conditions hold for some risk profile, the track-record conditions that stand in
/// the way. Pure.
/// </summary>
public static class EarnedAutonomyBuilder
{
    public const string NothingLeft = "nothing left to earn";

    public static EarnedAutonomy? Of(CompiledPolicy? policy, IEnumerable<PolicyFacts> profileFacts, IReadOnlyList<TrackOutcome> outcomes, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(profileFacts);
        ArgumentNullException.ThrowIfNull(outcomes);
        if (policy is null || policy.TrackRecordWindows.Count == 0)
        {
            return null;
        }

        var record = TrackRecordFacts.From(outcomes, policy.TrackRecordWindows, now);
        var rules = policy.Bundle.Rules.ToDictionary(r => r.Id, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var steps = new List<EarningStep>();
        foreach (var facts in profileFacts)
        {
            foreach (var rule in PolicyEvaluator.Explain(policy, facts with { TrackRecord = record }, now).Rules)
            {
                if (rules[rule.RuleId].Match.TrackRecord is not { } match
                    || !rule.Conditions.Where(c => !IsTrackRecord(c)).All(c => c.Met)
                    || !seen.Add(rule.RuleId))
                {
                    continue;
                }

                // An allow rule is held back by what is unmet; any other rule holds the agent back by what is met.
                var grants = rule.Outcome == DecisionOutcome.Allow;
                foreach (var condition in rule.Conditions.Where(c => IsTrackRecord(c) && c.Met != grants))
                {
                    steps.Add(Step(rule, condition.Condition[TrackRecordPrefix.Length..], match, record, outcomes, now));
                }
            }
        }

        var texts = steps.Select(s => s.Text).Distinct(StringComparer.Ordinal).ToList();
        return new EarnedAutonomy(
            [.. record.Windows.Select(w => new TrackRecordStanding(TrackRecordFacts.Format(w.Window), w.VerifiedSuccesses, w.Failures, w.Rollbacks))],
            steps,
            texts.Count == 0 ? NothingLeft : string.Join("; ", texts));
    }

    private const string TrackRecordPrefix = "track-record.";

    private static bool IsTrackRecord(ConditionCheck check) => check.Condition.StartsWith(TrackRecordPrefix, StringComparison.Ordinal);

    private static EarningStep Step(RuleEvaluation rule, string condition, TrackRecordMatch match, TrackRecordFacts record, IReadOnlyList<TrackOutcome> outcomes, DateTimeOffset now)
    {
        var window = match.Window;
        var counts = record.In(window);
        var label = TrackRecordFacts.Format(window);
        EarningStep Successes(int threshold)
        {
            var more = Math.Max(1, threshold - (counts?.VerifiedSuccesses ?? 0));
            return new(rule.RuleId, rule.Outcome, condition, label, more, null, $"{more} more verified success{(more == 1 ? "" : "es")} in {label}");
        }

        EarningStep Clears(string noun, IEnumerable<DateTimeOffset?> times, int allowed)
        {
            var until = ClearsAt(times, allowed, window, now);
            var days = until is { } u ? (int)Math.Max(1, Math.Ceiling((u - now).TotalDays)) : 0;
            var wait = $"{days} more day{(days == 1 ? "" : "s")}";
            var text = allowed == 0 ? $"no {noun} for {wait}" : $"at most {allowed} {noun}s in {label}: no new {noun} for {wait}";
            return new(rule.RuleId, rule.Outcome, condition, label, null, until, text);
        }

        var rollbacks = outcomes.Select(o => o.RolledBackAt);
        var failures = outcomes.Where(o => o.Verified == false).Select(o => o.At);
        return condition switch
        {
            "verified-successes-at-least" => Successes(match.VerifiedSuccessesAtLeast!.Value),
            "verified-successes-below" => Successes(match.VerifiedSuccessesBelow!.Value),
            "rollbacks-at-most" => Clears("rollback", rollbacks, match.RollbacksAtMost!.Value),
            "rollbacks-at-least" => Clears("rollback", rollbacks, match.RollbacksAtLeast!.Value - 1),
            "failures-at-most" => Clears("failure", failures, match.FailuresAtMost!.Value),
            _ => Clears("failure", failures, match.FailuresAtLeast!.Value - 1),
        };
    }

    /// <summary>When the count of <paramref name="times"/> in the window drops to <paramref name="allowed"/>: the oldest ones in the way leave it.</summary>
    public static DateTimeOffset? ClearsAt(IEnumerable<DateTimeOffset?> times, int allowed, TimeSpan window, DateTimeOffset now)
    {
        var inWindow = times.Where(t => TrackRecordFacts.Within(t, window, now)).Select(t => t!.Value).Order().ToList();
        var leaving = inWindow.Count - allowed;
        return leaving <= 0 ? null : inWindow[leaving - 1] + window;
    }
}
