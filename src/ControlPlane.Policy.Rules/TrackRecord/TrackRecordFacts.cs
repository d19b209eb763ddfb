using System.Globalization;

namespace ControlPlane.Policy.Bundles;

/// <summary>
/// One finished or rolled-back proposal of an agent, for one action kind in one environment: Verified true when it
/// completed (its verifications passed), false when it failed, null while it has not ended; RolledBackAt when
/// orchestrator asked the fleet to undo it.
/// </summary>
public sealed record TrackOutcome(bool? Verified, DateTimeOffset? At, DateTimeOffset? RolledBackAt);

/// <summary>The agent's counts in one window ending at the decision: verified successes, failures, rollbacks.</summary>
public sealed record TrackRecordWindow(TimeSpan Window, int VerifiedSuccesses, int Failures, int Rollbacks);

/// <summary>
/// The agent's verified track record for the action kind and environment a decision is about, counted once per
/// window length the bundle's rules use. An outcome counts in a window when it is younger than the window
/// (now - at &lt; window), so it leaves the window exactly one window length after it happened. A window the facts
/// do not hold (no agent, a dry run) counts as nothing: zero successes, which fails closed.
/// </summary>
public sealed record TrackRecordFacts(IReadOnlyList<TrackRecordWindow> Windows)
{
    public static readonly TrackRecordFacts None = new([]);

    public static TrackRecordFacts From(IEnumerable<TrackOutcome> outcomes, IEnumerable<TimeSpan> windows, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        ArgumentNullException.ThrowIfNull(windows);
        var all = outcomes.ToList();
        return new TrackRecordFacts([.. windows.Distinct().Order().Select(w => new TrackRecordWindow(w,
            all.Count(o => o.Verified == true && o.RolledBackAt is null && Within(o.At, w, now)),
            all.Count(o => o.Verified == false && Within(o.At, w, now)),
            all.Count(o => Within(o.RolledBackAt, w, now))))]);
    }

    /// <summary>Whether something that happened at <paramref name="at"/> is inside the window ending now.</summary>
    public static bool Within(DateTimeOffset? at, TimeSpan window, DateTimeOffset now) => at is { } t && now - t < window;

    /// <summary>The counts for a window; null when the facts do not hold it. A loop, not LINQ: matching must not allocate.</summary>
    public TrackRecordWindow? In(TimeSpan window)
    {
        var windows = Windows;
        for (var i = 0; i < windows.Count; i++)
        {
            if (windows[i].Window == window)
            {
                return windows[i];
            }
        }

        return null;
    }

    /// <summary>"30d", "12h", "1d6h": a window as bundles write it.</summary>
    public static string Format(TimeSpan span)
    {
        var text = string.Empty;
        if (span.Days > 0)
        {
            text += span.Days.ToString(CultureInfo.InvariantCulture) + "d";
        }

        if (span.Hours > 0)
        {
            text += span.Hours.ToString(CultureInfo.InvariantCulture) + "h";
        }

        if (span.Minutes > 0)
        {
            text += span.Minutes.ToString(CultureInfo.InvariantCulture) + "m";
        }

        return text.Length == 0 ? span.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s" : text;
    }
}
