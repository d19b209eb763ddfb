namespace ControlPlane.Evidence.Autonomy;

/// <summary>
/// When the autonomy meter refreshes next. Each refresh reads every proposal of the last 24 h, so its cost grows
/// with the day's volume (35,550 proposals took 0.66 s of PostgreSQL): past a point a fixed interval would spend most
/// of the database on a dashboard figure. The wait stretches so that refreshing takes at most 1/<see cref="CostShare"/>
/// of the time; the figures get older instead, and the meter says how old (controlplane.autonomy.snapshot_age).
/// </summary>
public static class RefreshPacing
{
    /// <summary>A refresh may take at most one part in this many of the meter's time.</summary>
    public const int CostShare = 20;

    /// <param name="interval">The configured interval, the shortest wait.</param>
    /// <param name="lastRefreshTook">How long the last refresh took; null when it failed, which says nothing of its cost
    /// (a refresh stuck on an unreachable database must not push the next one, after the outage, far out).</param>
    public static TimeSpan NextWait(TimeSpan interval, TimeSpan? lastRefreshTook)
    {
        if (interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "The autonomy metrics interval must be positive.");
        }

        var paced = (lastRefreshTook ?? TimeSpan.Zero) * (CostShare - 1);
        return paced > interval ? paced : interval;
    }
}
