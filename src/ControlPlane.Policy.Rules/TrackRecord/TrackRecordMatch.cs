using System.Text;

namespace ControlPlane.Policy.Bundles;

/// <summary>
/// The <c>track-record</c> conditions of a rule, on the agent's verified outcomes for the proposal's action kind and
/// environment in the last <see cref="Window"/>. "At least" conditions let an agent earn autonomy; "below" and
/// "at least N rollbacks" let a rule keep requiring approval until it is earned, and take it back after a rollback.
/// </summary>
public sealed record TrackRecordMatch(
    TimeSpan Window,
    int? VerifiedSuccessesAtLeast = null,
    int? VerifiedSuccessesBelow = null,
    int? FailuresAtMost = null,
    int? FailuresAtLeast = null,
    int? RollbacksAtMost = null,
    int? RollbacksAtLeast = null);

/// <summary>
/// A rule's track-record conditions as predicates. Each reads one count of one window from the facts (a loop over a
/// few windows, no allocation) and says in its sentence whose record it is and how far it is from the threshold.
/// </summary>
internal static class TrackRecordConditions
{
    public const string Prefix = "track-record.";

    public static IEnumerable<Condition> Of(TrackRecordMatch match)
    {
        var w = match.Window;
        // The window as bundles write it, and each condition's bounds, are fixed: made once, appended per decision.
        var window = TrackRecordFacts.Format(w);
        if (match.VerifiedSuccessesAtLeast is { } least)
        {
            var unmet = $"at least {least}";
            yield return new Condition(Prefix + "verified-successes-at-least", f => Successes(f, w) >= least,
                (b, f, met) => Successes(b, f, w, window, least, met ? null : unmet));
        }

        if (match.VerifiedSuccessesBelow is { } below)
        {
            var unmet = $"not below {below}";
            yield return new Condition(Prefix + "verified-successes-below", f => Successes(f, w) < below,
                (b, f, met) => Successes(b, f, w, window, below, met ? null : unmet));
        }

        if (match.FailuresAtMost is { } failuresMost)
        {
            var (yes, no) = ($"at most {failuresMost}", $"more than {failuresMost}");
            yield return new Condition(Prefix + "failures-at-most", f => Failures(f, w) <= failuresMost,
                (b, f, met) => Count(b, f, window, Failures(f, w), "failure", met ? yes : no));
        }

        if (match.FailuresAtLeast is { } failuresLeast)
        {
            var (yes, no) = ($"at least {failuresLeast}", $"fewer than {failuresLeast}");
            yield return new Condition(Prefix + "failures-at-least", f => Failures(f, w) >= failuresLeast,
                (b, f, met) => Count(b, f, window, Failures(f, w), "failure", met ? yes : no));
        }

        if (match.RollbacksAtMost is { } rollbacksMost)
        {
            var (yes, no) = ($"at most {rollbacksMost}", $"more than {rollbacksMost}");
            yield return new Condition(Prefix + "rollbacks-at-most", f => Rollbacks(f, w) <= rollbacksMost,
                (b, f, met) => Count(b, f, window, Rollbacks(f, w), "rollback", met ? yes : no));
        }

        if (match.RollbacksAtLeast is { } rollbacksLeast)
        {
            var (yes, no) = ($"at least {rollbacksLeast}", $"fewer than {rollbacksLeast}");
            yield return new Condition(Prefix + "rollbacks-at-least", f => Rollbacks(f, w) >= rollbacksLeast,
                (b, f, met) => Count(b, f, window, Rollbacks(f, w), "rollback", met ? yes : no));
        }
    }

    // An unknown agent has no record: zero of everything, so no rule that asks for earned successes holds (fail closed).
    private static int Successes(PolicyFacts f, TimeSpan w) => f.AgentId is null ? 0 : f.TrackRecord?.In(w)?.VerifiedSuccesses ?? 0;

    private static int Failures(PolicyFacts f, TimeSpan w) => f.AgentId is null ? 0 : f.TrackRecord?.In(w)?.Failures ?? 0;

    private static int Rollbacks(PolicyFacts f, TimeSpan w) => f.AgentId is null ? 0 : f.TrackRecord?.In(w)?.Rollbacks ?? 0;

    /// <summary>"agent X has 7 of 20 verified successes for restart in staging in 30d" (or "has 23 …, not below 20").</summary>
    private static StringBuilder Successes(StringBuilder b, PolicyFacts f, TimeSpan w, string window, int threshold, string? beyond)
    {
        var have = Successes(f, w);
        Who(b, f);
        if (have < threshold)
        {
            return Scope(b.Append($" has {have} of {threshold} verified successes "), f, window);
        }

        Scope(b.Append($" has {have} verified successes "), f, window);
        return beyond is null ? b : b.Append(", ").Append(beyond);
    }

    private static StringBuilder Count(StringBuilder b, PolicyFacts f, string window, int have, string noun, string bound) =>
        Scope(Who(b, f).Append($" has {have} {noun}{(have == 1 ? string.Empty : "s")} "), f, window).Append(", ").Append(bound);

    private static StringBuilder Who(StringBuilder b, PolicyFacts f) =>
        f.AgentId is { } agent ? b.Append("agent ").Append(agent) : b.Append("an unknown agent (no track record)");

    private static StringBuilder Scope(StringBuilder b, PolicyFacts f, string window) =>
        b.Append($"for {f.ActionKind} in {f.Environment} in {window}");
}
