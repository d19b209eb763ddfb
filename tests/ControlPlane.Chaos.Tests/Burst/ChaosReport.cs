using System.Globalization;
using System.Text;
using ControlPlane.Contracts;

namespace ControlPlane.Chaos.Tests.Burst;

/// <summary>What became of one offered proposal.</summary>
public sealed record ProposalOutcome(int Index, string Environment, Guid? Id, string? Refusal, ProposalState? State, string? FailureReason);

/// <summary>One fault: when it began (seconds into the burst) and how long until the plane had it back (healthy, reconnected).</summary>
public sealed record FaultTiming(string Fault, double StartedAt, double Seconds, string? Error);

/// <summary>
/// The figures of a chaos run and its goals: 0 lost, 0 stuck past the bounded re-offer time, 0 executed twice,
/// 0 failed for a transient reason, and the evidence chain verifies.
/// </summary>
public sealed record ChaosReport(
    int Offered,
    int Accepted,
    IReadOnlyDictionary<string, int> Refused,
    int Completed,
    IReadOnlyDictionary<string, int> Failed,
    IReadOnlyDictionary<string, int> OtherEnds,
    IReadOnlyList<string> Stuck,
    IReadOnlyList<string> Lost,
    IReadOnlyList<Guid> PackagesRunTwice,
    IReadOnlyList<Guid> ChangesRunTwice,
    int Executions,
    int TransientFailures,
    bool? EvidenceVerified,
    long EvidenceRecords,
    IReadOnlyList<FaultTiming> Faults)
{
    // Reasons that say a dependency or a runner was away for a moment: never a verdict on the change (issue 9).
    private static readonly string[] TransientMarks =
    [
        "connection", "unavailable", "could not be fetched", "could not reach", "timed out", "timeout", "no runner",
        "silent", "broker", "reset", "socket", "network", "unreachable", "503", "502", "500", "transient", "lost",
    ];

    public static bool IsTransient(string? reason) =>
        reason is not null && TransientMarks.Any(m => reason.Contains(m, StringComparison.OrdinalIgnoreCase));

    public static ChaosReport From(IReadOnlyList<ProposalOutcome> outcomes, IReadOnlyList<Execution> executions, bool? evidenceVerified,
        long evidenceRecords, IReadOnlyList<FaultTiming> faults)
    {
        var accepted = outcomes.Where(o => o.Id is not null).ToList();
        var runs = RunnerExecutions.ChangeRuns(executions);
        var lost = new List<string>();
        lost.AddRange(accepted.Where(o => o.State is null).Select(o => $"{o.Id}: accepted, then unknown to orchestrator"));
        // Completed without the runner having run its change: orchestrator's word without the runner's record.
        lost.AddRange(accepted.Where(o => o.State == ProposalState.Completed && !runs.ContainsKey(o.Id!.Value))
            .Select(o => $"{o.Id}: completed, but no runner recorded its change"));
        var failed = accepted.Where(o => o.State == ProposalState.Failed).ToList();
        return new ChaosReport(
            Offered: outcomes.Count,
            Accepted: accepted.Count,
            Refused: Count(outcomes.Where(o => o.Id is null).Select(o => o.Refusal ?? "no answer")),
            Completed: accepted.Count(o => o.State == ProposalState.Completed),
            Failed: Count(failed.Select(o => o.FailureReason ?? "(no reason)")),
            OtherEnds: Count(accepted.Where(o => o.State is ProposalState.Denied or ProposalState.Rejected or ProposalState.Expired or ProposalState.Cancelled)
                .Select(o => $"{o.State}: {o.FailureReason}")),
            Stuck: [.. accepted.Where(o => o.State is { } s && !IsTerminal(s)).Select(o => $"{o.Id} ({o.Environment}) still {o.State}")],
            Lost: lost,
            PackagesRunTwice: RunnerExecutions.PackagesRunTwice(executions),
            ChangesRunTwice: RunnerExecutions.ChangesRunTwice(executions),
            Executions: executions.Count,
            TransientFailures: failed.Count(o => IsTransient(o.FailureReason)) + outcomes.Count(o => o.Id is null && IsTransient(o.Refusal)),
            EvidenceVerified: evidenceVerified,
            EvidenceRecords: evidenceRecords,
            Faults: faults);
    }

    public static bool IsTerminal(ProposalState state) => state is ProposalState.Completed or ProposalState.Denied or ProposalState.Rejected
        or ProposalState.Expired or ProposalState.Failed or ProposalState.Cancelled;

    /// <summary>The goals that were missed, in words (empty: every goal met).</summary>
    public IReadOnlyList<string> MissedGoals()
    {
        var missed = new List<string>();
        if (Lost.Count > 0)
        {
            missed.Add($"{Lost.Count} lost");
        }

        if (Refused.Count > 0)
        {
            missed.Add($"{Refused.Values.Sum()} never accepted");
        }

        if (Stuck.Count > 0)
        {
            missed.Add($"{Stuck.Count} stuck past the drain");
        }

        if (PackagesRunTwice.Count + ChangesRunTwice.Count > 0)
        {
            missed.Add($"{PackagesRunTwice.Count} packages and {ChangesRunTwice.Count} changes executed twice");
        }

        if (TransientFailures > 0)
        {
            missed.Add($"{TransientFailures} failed for a transient reason");
        }

        if (EvidenceVerified != true)
        {
            missed.Add($"evidence chain verified: {EvidenceVerified?.ToString() ?? "unknown"}");
        }

        return missed;
    }

    public string Print()
    {
        var text = new StringBuilder();
        void Line(string line) => text.AppendLine(line);
        Line("== chaos report");
        Line($"offered {Offered}, accepted {Accepted}, completed {Completed}, failed {Failed.Values.Sum()}, other ends {OtherEnds.Values.Sum()}, stuck {Stuck.Count}, lost {Lost.Count}");
        Line($"runner executions recorded {Executions}; executed twice: {PackagesRunTwice.Count} packages, {ChangesRunTwice.Count} changes");
        Line($"failed for a transient reason {TransientFailures}; evidence chain verifies: {EvidenceVerified?.ToString() ?? "unknown"} ({EvidenceRecords} records)");
        foreach (var (reason, count) in Refused)
        {
            Line($"  never accepted ×{count}: {reason}");
        }

        foreach (var (reason, count) in Failed)
        {
            Line($"  failed ×{count}{(IsTransient(reason) ? " [transient]" : "")}: {reason}");
        }

        foreach (var (reason, count) in OtherEnds)
        {
            Line($"  ended ×{count}: {reason}");
        }

        foreach (var item in Stuck.Concat(Lost).Take(20))
        {
            Line($"  {item}");
        }

        foreach (var id in PackagesRunTwice.Take(10))
        {
            Line($"  package {id} executed more than once");
        }

        foreach (var id in ChangesRunTwice.Take(10))
        {
            Line($"  proposal {id}: change executed more than once");
        }

        Line("== faults (start s into the burst, seconds until back)");
        foreach (var fault in Faults)
        {
            Line(string.Create(CultureInfo.InvariantCulture, $"  {fault.Fault,-36} at {fault.StartedAt,6:0.0} s  back after {fault.Seconds,5:0.0} s{(fault.Error is null ? "" : "  ERROR " + fault.Error)}"));
        }

        var missed = MissedGoals();
        Line(missed.Count == 0 ? "== every goal met" : "== goals missed: " + string.Join("; ", missed));
        return text.ToString();
    }

    private static Dictionary<string, int> Count(IEnumerable<string> reasons) =>
        reasons.GroupBy(r => r, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
}
