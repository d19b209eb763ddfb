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
        if (match.VerifiedSuccessesAtLeast is { } least)
        {
            yield return new Condition(Prefix + "verified-successes-at-least", f => Successes(f, w) >= least,
                (f, met) => Successes(f, w, least, met ? null : $"at least {least}"));
        }

        if (match.VerifiedSuccessesBelow is { } below)
        {
            yield return new Condition(Prefix + "verified-successes-below", f => Successes(f, w) < below,
                (f, met) => Successes(f, w, below, met ? null : $"not below {below}"));
        }

        if (match.FailuresAtMost is { } failuresMost)
        {
            yield return new Condition(Prefix + "failures-at-most", f => Failures(f, w) <= failuresMost,
                (f, met) => Count(f, w, Failures(f, w), "failure", met ? $"at most {failuresMost}" : $"more than {failuresMost}"));
        }

        if (match.FailuresAtLeast is { } failuresLeast)
        {
            yield return new Condition(Prefix + "failures-at-least", f => Failures(f, w) >= failuresLeast,
                (f, met) => Count(f, w, Failures(f, w), "failure", met ? $"at least {failuresLeast}" : $"fewer than {failuresLeast}"));
        }

        if (match.RollbacksAtMost is { } rollbacksMost)
        {
            yield return new Condition(Prefix + "rollbacks-at-most", f => Rollbacks(f, w) <= rollbacksMost,
                (f, met) => Count(f, w, Rollbacks(f, w), "rollback", met ? $"at most {rollbacksMost}" : $"more than {rollbacksMost}"));
        }

        if (match.RollbacksAtLeast is { } rollbacksLeast)
        {
            yield return new Condition(Prefix + "rollbacks-at-least", f => Rollbacks(f, w) >= rollbacksLeast,
                (f, met) => Count(f, w, Rollbacks(f, w), "rollback", met ? $"at least {rollbacksLeast}" : $"fewer than {rollbacksLeast}"));
        }
    }

    // An unknown agent has no record: zero of everything, so no rule that asks for earned successes holds (fail closed).
    private static int Successes(PolicyFacts f, TimeSpan w) => f.AgentId is null ? 0 : f.TrackRecord?.In(w)?.VerifiedSuccesses ?? 0;

    private static int Failures(PolicyFacts f, TimeSpan w) => f.AgentId is null ? 0 : f.TrackRecord?.In(w)?.Failures ?? 0;

    private static int Rollbacks(PolicyFacts f, TimeSpan w) => f.AgentId is null ? 0 : f.TrackRecord?.In(w)?.Rollbacks ?? 0;

    /// <summary>"agent X has 7 of 20 verified successes for restart in staging in 30d" (or "has 23 …, not below 20").</summary>
    private static string Successes(PolicyFacts f, TimeSpan w, int threshold, string? beyond)
    {
        var have = Successes(f, w);
        return have < threshold
            ? $"{Who(f)} has {have} of {threshold} verified successes {Scope(f, w)}"
            : $"{Who(f)} has {have} verified successes {Scope(f, w)}{(beyond is null ? string.Empty : ", " + beyond)}";
    }

    private static string Count(PolicyFacts f, TimeSpan w, int have, string noun, string bound) =>
        $"{Who(f)} has {have} {noun}{(have == 1 ? string.Empty : "s")} {Scope(f, w)}, {bound}";

    private static string Who(PolicyFacts f) => f.AgentId is { } agent ? $"agent {agent}" : "an unknown agent (no track record)";

    private static string Scope(PolicyFacts f, TimeSpan w) => $"for {f.ActionKind} in {f.Environment} in {TrackRecordFacts.Format(w)}";
}
