namespace ControlPlane.Load;

/// <summary>p50/p95/p99/max of a set of latencies; Count 0 when nothing was measured.</summary>
public sealed record LatencySummary(int Count, TimeSpan P50, TimeSpan P95, TimeSpan P99, TimeSpan Max);

/// <summary>The pure arithmetic of a load run: percentiles, ratios to a baseline and the open-loop schedule.</summary>
public static class LoadStatistics
{
    /// <summary>Nearest-rank percentile (the smallest value with at least p% of the values at or below it).</summary>
    public static TimeSpan Percentile(IReadOnlyList<TimeSpan> sorted, double percent)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(percent, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        if (sorted.Count == 0)
        {
            throw new ArgumentException("No values.", nameof(sorted));
        }

        var rank = (int)Math.Ceiling(percent / 100 * sorted.Count);
        return sorted[Math.Clamp(rank, 1, sorted.Count) - 1];
    }

    public static LatencySummary Summarize(IEnumerable<TimeSpan> latencies)
    {
        var sorted = latencies.Order().ToArray();
        return sorted.Length == 0
            ? new LatencySummary(0, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero)
            : new LatencySummary(sorted.Length, Percentile(sorted, 50), Percentile(sorted, 95), Percentile(sorted, 99), sorted[^1]);
    }

    /// <summary>ours / baseline, or null when the baseline is missing or zero (no ratio can be honest then).</summary>
    public static double? Ratio(double ours, double? baseline) => baseline is > 0 ? ours / baseline.Value : null;

    /// <summary>
    /// Open loop: how many submissions are due <paramref name="elapsed"/> into the run at <paramref name="rate"/>
    /// per second (submission i is due at i / rate, the first at 0), never more than the run's total.
    /// </summary>
    public static long DueBy(TimeSpan elapsed, double rate, TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(rate, 0);
        if (elapsed < TimeSpan.Zero)
        {
            return 0;
        }

        return Math.Min(TotalOffered(rate, duration), (long)Math.Floor(elapsed.TotalSeconds * rate) + 1);
    }

    /// <summary>Submissions offered in a run: one every 1/rate seconds over the duration.</summary>
    public static long TotalOffered(double rate, TimeSpan duration) => (long)Math.Round(rate * duration.TotalSeconds);

    /// <summary>
    /// Which environment submission <paramref name="index"/> goes to under a weighted mix such as
    /// production=1:dev=1 - deterministic, so every cycle of the mix has exactly its shares.
    /// </summary>
    public static string EnvironmentFor(long index, IReadOnlyList<(string Environment, int Weight)> mix)
    {
        ArgumentNullException.ThrowIfNull(mix);
        var total = mix.Sum(m => m.Weight);
        if (mix.Count == 0 || total <= 0)
        {
            throw new ArgumentException("The mix needs at least one positive weight.", nameof(mix));
        }

        // Each cycle of the mix's total weight gives every entry its weight of consecutive slots.
        var slot = index % total;
        foreach (var (environment, weight) in mix)
        {
            if (slot < weight)
            {
                return environment;
            }

            slot -= weight;
        }

        return mix[^1].Environment;
    }

    /// <summary>Events per second between the first start and the last end (server clock), null below two events.</summary>
    public static double? Throughput(int count, DateTimeOffset firstStart, DateTimeOffset lastEnd)
    {
        var span = lastEnd - firstStart;
        return count >= 2 && span > TimeSpan.Zero ? count / span.TotalSeconds : null;
    }
}
