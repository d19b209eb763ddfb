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
    /// The dependents of each node the window names (the nodes that depend on it, transitively), resolved from
    /// system-graph before evaluation so Holds stays pure. Null: not resolved; see <see cref="DependentsUnresolved"/>.
    /// Only windows that extend to dependents carry them.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? Dependents { get; private init; }

    /// <summary>Why the dependents could not be resolved ("system-graph unreachable"); null when they were or are not needed.</summary>
    public string? DependentsUnresolved { get; private init; }

    /// <summary>This window with its nodes' dependents.</summary>
    public CompiledWindow WithDependents(IReadOnlyDictionary<string, IReadOnlyList<string>> dependents) =>
        new(Window, _cron, _zone, Duration) { Dependents = dependents };

    /// <summary>This window, whose nodes' dependents could not be resolved: it then applies to every change in its scope (fail closed).</summary>
    public CompiledWindow WithDependentsUnresolved(string reason) =>
        new(Window, _cron, _zone, Duration) { DependentsUnresolved = reason };

    /// <summary>
    /// What this window holds of the change ("production", "billing in production", "search in production (it
    /// depends on ledger)"), or null when it does not apply. Every scope list must match; "*" matches anything.
    /// With ExtendsToDependents a freeze of a node also holds changes to the nodes that depend on it; while those are
    /// not known the window holds every change in its environments and teams.
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

        if (Dependents is null)
        {
            return $"{string.Join(", ", scope.Targets)} in {scope.Environment} (cannot resolve the dependents of {string.Join(", ", s.Nodes)}: " +
                $"{DependentsUnresolved ?? "not resolved"}; held until they can be)";
        }

        var frozen = s.Nodes.Where(n => Dependents.TryGetValue(n, out var dependents) && scope.Targets.Any(t => dependents.Contains(t, StringComparer.Ordinal)))
            .Distinct(StringComparer.Ordinal).ToList();
        if (frozen.Count == 0)
        {
            return null;
        }

        var reached = scope.Targets.Where(t => frozen.Any(n => Dependents[n].Contains(t, StringComparer.Ordinal))).ToList();
        return $"{string.Join(", ", reached)} in {scope.Environment} ({(reached.Count == 1 ? "it depends" : "they depend")} on {string.Join(", ", frozen)})";
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
