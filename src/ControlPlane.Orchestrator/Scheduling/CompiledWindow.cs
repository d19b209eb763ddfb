using System.Globalization;
using System.Text.RegularExpressions;
using ControlPlane.Contracts;
using Cronos;

namespace ControlPlane.Orchestrator.Scheduling;

/// <summary>
/// A change window with its cron, time zone and duration parsed. An occurrence starts at each cron time in the
/// window's zone (Cronos moves a time a DST change skips to the first valid one after it and fires an ambiguous one once)
/// and lasts Duration of elapsed time; the window is open while any occurrence is.
/// </summary>
public sealed partial class CompiledWindow
{
    /// <summary>Occurrences followed when working out where a run of overlapping ones ends ("* * * * *" for 1h never does).</summary>
    private const int ChainLimit = 256;

    private readonly CronExpression _cron;
    private readonly TimeZoneInfo _zone;

    private CompiledWindow(ChangeWindow window, CronExpression cron, TimeZoneInfo zone, TimeSpan duration)
    {
        Window = window;
        _cron = cron;
        _zone = zone;
        Duration = duration;
    }

    public ChangeWindow Window { get; }

    public string Kind => Window.Kind;

    public TimeSpan Duration { get; }

    /// <summary>Compiles a stored window; throws FormatException for what the API's validation refuses.</summary>
    public static CompiledWindow Compile(ChangeWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        if (!TryParseCron(window.Schedule, out var cron))
        {
            throw new FormatException($"Window {window.Id}: '{window.Schedule}' is not a 5-field cron expression.");
        }

        if (!TryFindZone(window.TimeZone, out var zone))
        {
            throw new FormatException($"Window {window.Id}: '{window.TimeZone}' is not an IANA time zone.");
        }

        if (!TryParseDuration(window.Duration, out var duration))
        {
            throw new FormatException($"Window {window.Id}: '{window.Duration}' is not a positive duration.");
        }

        return new CompiledWindow(window, cron, zone, duration);
    }

    /// <summary>"deny window 'quarter-end freeze' (0 18 * * 5, 64h, Europe/Berlin)".</summary>
    public string Describe() => $"{Window.Kind} window '{Window.Name}' ({Window.Schedule}, {Window.Duration}, {Window.TimeZone})";

    /// <summary>Open at <paramref name="at"/>: the latest occurrence at or before it has not yet ended.</summary>
    public bool IsOpen(DateTimeOffset at) => _cron.GetPreviousOccurrence(at, _zone, inclusive: true) is { } start && start + Duration > at;

    /// <summary>When the window, open at <paramref name="at"/>, next closes (overlapping occurrences joined); null when closed or no end within reach.</summary>
    public DateTimeOffset? OpenUntil(DateTimeOffset at)
    {
        if (_cron.GetPreviousOccurrence(at, _zone, inclusive: true) is not { } start || start + Duration <= at)
        {
            return null;
        }

        var end = start + Duration;
        for (var i = 0; i < ChainLimit; i++)
        {
            if (_cron.GetNextOccurrence(start, _zone, inclusive: false) is not { } next || next >= end)
            {
                return end;
            }

            start = next;
            end = next + Duration;
        }

        return null;
    }

    /// <summary>The first occurrence after <paramref name="after"/>.</summary>
    public DateTimeOffset? NextStart(DateTimeOffset after) => _cron.GetNextOccurrence(after, _zone, inclusive: false);

    /// <summary>
    /// What this window holds of the change ("production", "billing in production", "billing in production (ledger
    /// depends on it)"), or null when it does not apply. Every scope list must match; "*" matches anything.
    /// </summary>
    public string? Holds(ChangeScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var s = Window.Scope;
        if (!Any(s.Environments) && !s.Environments.Contains(scope.Environment, StringComparer.Ordinal))
        {
            return null;
        }

        if (!Any(s.Teams) && scope.Teams is not null && !scope.Teams.Any(t => s.Teams.Contains(t, StringComparer.Ordinal)))
        {
            return null;
        }

        if (Any(s.Nodes))
        {
            return scope.Environment;
        }

        var named = scope.Targets.Where(t => s.Nodes.Contains(t, StringComparer.Ordinal)).ToList();
        if (named.Count > 0)
        {
            return $"{string.Join(", ", named)} in {scope.Environment}";
        }

        if (!Window.ExtendsToDependents)
        {
            return null;
        }

        if (scope.Dependents is null)
        {
            return $"{string.Join(", ", scope.Targets)} in {scope.Environment} (its dependents are not known)";
        }

        var frozen = scope.Dependents.Where(d => s.Nodes.Contains(d, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        return frozen.Count == 0 ? null : $"{string.Join(", ", scope.Targets)} in {scope.Environment} ({string.Join(", ", frozen)} depends on it)";
    }

    private static bool Any(IReadOnlyList<string> values) => values.Contains("*", StringComparer.Ordinal);

    public static bool TryParseCron(string? expression, out CronExpression cron)
    {
        cron = null!;
        // Cronos also reads macros (@daily); windows keep to the five fields everyone can read.
        if (expression is null || expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length != 5 ||
            !CronExpression.TryParse(expression, CronFormat.Standard, out var parsed))
        {
            return false;
        }

        cron = parsed;
        return true;
    }

    /// <summary>IANA ids only ("Europe/Berlin", "UTC"): a Windows id would read differently on another machine.</summary>
    public static bool TryFindZone(string? id, out TimeZoneInfo zone)
    {
        zone = TimeZoneInfo.Utc;
        if (string.IsNullOrWhiteSpace(id) || !TimeZoneInfo.TryFindSystemTimeZoneById(id, out var found) || !found.HasIanaId)
        {
            return false;
        }

        zone = found;
        return true;
    }

    /// <summary>The longest duration a window may have: a year (longer is a configuration mistake, not a window).</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(366);

    /// <summary>"64h", "1h30m", "2d", "45s": days, hours, minutes, seconds in that order, each at most once; positive, at most a year.</summary>
    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (text is null || text.Length is 0 or > 32 || DurationPattern().Match(text) is not { Success: true } m)
        {
            return false;
        }

        double Part(int group) => m.Groups[group].Success ? double.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
        var total = TimeSpan.FromDays(Part(1)) + TimeSpan.FromHours(Part(2)) + TimeSpan.FromMinutes(Part(3)) + TimeSpan.FromSeconds(Part(4));
        if (total <= TimeSpan.Zero || total > MaxDuration)
        {
            return false;
        }

        duration = total;
        return true;
    }

    [GeneratedRegex("^(?:([0-9]{1,6})d)?(?:([0-9]{1,6})h)?(?:([0-9]{1,6})m)?(?:([0-9]{1,6})s)?$")]
    private static partial Regex DurationPattern();
}
