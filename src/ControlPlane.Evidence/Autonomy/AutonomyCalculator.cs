using ControlPlane.Contracts.Evidence;

namespace ControlPlane.Evidence.Autonomy;

/// <summary>One proposal as the projection holds it.</summary>
public sealed record ProposalFacts(
    Guid ProposalId, string Agent, string Environment, string ActionKind, DateTimeOffset SubmittedAt, string State, DateTimeOffset? StateAt,
    DateTimeOffset? AwaitingSince, bool ApprovalRequired, bool HumanDecided, bool Executed, DateTimeOffset? CompletedAt,
    bool VerificationFailed, bool RolledBack, bool? ImpactReachable = null);

/// <summary>One human decision on a proposal.</summary>
public sealed record ApprovalFacts(Guid ProposalId, string Approver, bool Approved, DateTimeOffset DecidedAt);

/// <summary>
/// The autonomy figures from projection rows: pure, so every formula (src/ControlPlane.Evidence/README.md) is
/// unit-tested without a database.
/// </summary>
public static class AutonomyCalculator
{
    public const int BurstThreshold = 5;
    public static readonly TimeSpan BurstWindow = TimeSpan.FromMinutes(10);
    private static readonly HashSet<string> Terminal = new(StringComparer.Ordinal) { "completed", "denied", "rejected", "expired", "failed", "cancelled" };

    /// <param name="proposals">Proposals submitted in [from, to).</param>
    /// <param name="approvals">The decisions on those proposals.</param>
    /// <param name="waitingNow">Every proposal awaiting approval now, whenever submitted: an old wait must not drop out of view.</param>
    public static AutonomyMetrics Compute(DateTimeOffset from, DateTimeOffset to, IReadOnlyList<ProposalFacts> proposals, IReadOnlyList<ApprovalFacts> approvals,
        IReadOnlyList<ProposalFacts> waitingNow)
    {
        ArgumentNullException.ThrowIfNull(proposals);
        ArgumentNullException.ThrowIfNull(approvals);
        ArgumentNullException.ThrowIfNull(waitingNow);
        var byId = proposals.ToDictionary(p => p.ProposalId);
        var completed = proposals.Where(p => p.State == "completed").ToList();
        var unattended = completed.Count(IsUnattended);
        var executed = proposals.Count(p => p.Executed);
        var waiting = proposals.Where(p => p.State == "awaiting-approval").ToList();
        var decided = approvals.Where(a => byId.ContainsKey(a.ProposalId)).ToList();

        var totals = new AutonomyTotals(
            proposals.Count,
            completed.Count,
            unattended,
            Count(proposals, "failed"),
            proposals.Count(p => p.RolledBack),
            Count(proposals, "rejected"),
            Count(proposals, "denied"),
            Count(proposals, "cancelled"),
            Count(proposals, "expired"),
            waiting.Count,
            proposals.Count(p => !Terminal.Contains(p.State) && p.State != "awaiting-approval"));

        return new AutonomyMetrics(
            from,
            to,
            totals,
            Rate(unattended, completed.Count),
            Rate(proposals.Count(p => p.Executed && (p.VerificationFailed || p.RolledBack)), executed),
            Rate(proposals.Count(p => p.Executed && p.RolledBack), executed),
            Latency(completed.Where(p => p.CompletedAt is not null).Select(p => (p.CompletedAt!.Value - p.SubmittedAt).TotalMilliseconds)),
            new ApprovalMetrics(
                decided.Count,
                waitingNow.Count,
                waitingNow.Select(p => p.AwaitingSince ?? p.StateAt).Min(),
                Latency(decided.Select(a => ApprovalLatency(a, byId[a.ProposalId])).OfType<double>()),
                [.. decided.GroupBy(a => a.Approver, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new HumanApprovals(
                    g.Key, g.Count(a => a.Approved), g.Count(a => !a.Approved),
                    Latency(g.Select(a => ApprovalLatency(a, byId[a.ProposalId])).OfType<double>())))],
                decided.Count(a => byId[a.ProposalId].ImpactReachable != false),
                decided.Count(a => byId[a.ProposalId].ImpactReachable == false)),
            Breakdown(proposals, p => p.Environment),
            Breakdown(proposals, p => p.Agent),
            Breakdown(proposals, p => p.ActionKind),
            DeniedBursts(proposals));
    }

    /// <summary>Completed with no human in the loop: policy never asked for approval and nobody decided.</summary>
    public static bool IsUnattended(ProposalFacts p) => p.State == "completed" && !p.ApprovalRequired && !p.HumanDecided;

    public static double? Rate(int part, int whole) => whole == 0 ? null : (double)part / whole;

    /// <summary>Nearest-rank percentile (the smallest value with at least p% of values at or below it).</summary>
    public static double? Percentile(IReadOnlyList<double> sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0)
        {
            return null;
        }

        var rank = (int)Math.Ceiling(p / 100 * sorted.Count);
        return sorted[Math.Clamp(rank, 1, sorted.Count) - 1];
    }

    public static LatencySummary Latency(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return new LatencySummary(Percentile(sorted, 50), Percentile(sorted, 95));
    }

    /// <summary>
    /// Per agent, the largest number of denials inside any 10-minute window that starts at one of its denials,
    /// reported when it reaches <see cref="BurstThreshold"/>.
    /// </summary>
    public static IReadOnlyList<DeniedBurst> DeniedBursts(IEnumerable<ProposalFacts> proposals)
    {
        var bursts = new List<DeniedBurst>();
        foreach (var agent in proposals.Where(p => p.State == "denied").GroupBy(p => p.Agent, StringComparer.Ordinal))
        {
            var times = agent.Select(p => p.StateAt ?? p.SubmittedAt).Order().ToList();
            DeniedBurst? best = null;
            for (int start = 0, end = 0; start < times.Count; start++)
            {
                end = Math.Max(end, start);
                while (end + 1 < times.Count && times[end + 1] - times[start] < BurstWindow)
                {
                    end++;
                }

                var count = end - start + 1;
                if (count >= BurstThreshold && (best is null || count > best.Denied))
                {
                    best = new DeniedBurst(agent.Key, count, times[start]);
                }
            }

            if (best is not null)
            {
                bursts.Add(best);
            }
        }

        return [.. bursts.OrderByDescending(b => b.Denied).ThenBy(b => b.Agent, StringComparer.Ordinal)];
    }

    private static double? ApprovalLatency(ApprovalFacts approval, ProposalFacts proposal) =>
        proposal.AwaitingSince is { } since ? Math.Max(0, (approval.DecidedAt - since).TotalMilliseconds) : null;

    private static int Count(IEnumerable<ProposalFacts> proposals, string state) => proposals.Count(p => p.State == state);

    private static List<AutonomyBreakdown> Breakdown(IEnumerable<ProposalFacts> proposals, Func<ProposalFacts, string> key) =>
    [
        .. proposals.GroupBy(key, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var completed = g.Count(p => p.State == "completed");
            var unattended = g.Count(IsUnattended);
            return new AutonomyBreakdown(g.Key, g.Count(), completed, unattended, Rate(unattended, completed), Count(g, "failed"), g.Count(p => p.RolledBack));
        }),
    ];
}
