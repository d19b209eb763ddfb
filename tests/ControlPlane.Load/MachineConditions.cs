using System.Globalization;

namespace ControlPlane.Load;

/// <summary>Machine-wide counters from /proc: CPU ticks (busy and all) and pages read back into the page cache.</summary>
public sealed record MachineCounters(long BusyTicks, long AllTicks, long FileRefaults, long MajorFaults);

/// <summary>What the rest of the machine did around a run, so a disturbed run is told apart from a slow plane.</summary>
public sealed record MachineReport(double? BusyBefore, long? RefaultedBytes, long? MajorFaults, string? ProactivePageout,
    TimeSpan? YoungestService = null)
{
    /// <summary>Above this share of all cores busy before the run, the box was not quiet.</summary>
    public const double QuietLimit = 0.25;

    /// <summary>More page cache than this read back during a run means the kernel evicted pages the plane was using.</summary>
    public const long RefaultLimitBytes = 64L * 1024 * 1024;

    /// <summary>
    /// A service younger than this is still warming up: the first 10/s run after a start cost about 190 ms of CPU per
    /// proposal against 125-135 ms warm, and the second, about 2.5 minutes after the start, as much (README "Load", seventh round).
    /// </summary>
    public static readonly TimeSpan WarmAfter = TimeSpan.FromMinutes(3);

    public IReadOnlyList<string> Warnings =>
    [
        .. BusyBefore > QuietLimit
            ? [$"the box was {BusyBefore * 100:0}% busy before the run: something besides the idle plane was running, so these figures are low"]
            : Array.Empty<string>(),
        .. RefaultedBytes > RefaultLimitBytes
            ? ["the kernel read back page cache it had evicted while in use (services' code, database files): figures from this run are not comparable with a run without"]
            : Array.Empty<string>(),
        .. YoungestService < WarmAfter
            ? [$"a service had started {YoungestService.Value.TotalSeconds:0} s before the run: the first minutes after a start cost more CPU per proposal (first use of every path, the JIT's tiers), so these figures are low; warm up with a 10/s run first"]
            : Array.Empty<string>(),
    ];
}

/// <summary>
/// Reads how busy the box is, how much evicted page cache had to be read back (workingset_refault_file in
/// /proc/vmstat) and whether DAMON's proactive pageout is on (/sys/kernel/mm/damon). On 2026-12-05 the same build needed
/// twice the CPU per proposal after a restart of the machine; a pageout scheme was running and had to be ruled out
/// (README "Load", fifth round), which these figures now do in every run. Linux only; elsewhere nothing.
/// </summary>
public static class MachineConditions
{
    public const long PageBytes = 4096;

    public static MachineCounters? Read(string proc = "/proc")
    {
        var stat = ReadText(Path.Combine(proc, "stat"));
        var vmstat = ReadText(Path.Combine(proc, "vmstat"));
        if (stat is null || vmstat is null)
        {
            return null;
        }

        // "cpu  user nice system idle iowait irq softirq steal ...": idle and iowait are the time nothing ran.
        var cpu = stat.Split('\n')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (cpu.Length < 8 || cpu[0] != "cpu")
        {
            return null;
        }

        var ticks = cpu.Skip(1).Take(8).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var all = ticks.Sum();
        var idle = ticks[3] + ticks[4];
        return new MachineCounters(all - idle, all, Counter(vmstat, "workingset_refault_file"), Counter(vmstat, "pgmajfault"));
    }

    /// <summary>Share of all cores busy over <paramref name="window"/>, from two readings.</summary>
    public static async Task<double?> BusyShareAsync(TimeSpan window, CancellationToken cancellationToken, string proc = "/proc")
    {
        var before = Read(proc);
        await Task.Delay(window, cancellationToken);
        return Busy(before, Read(proc));
    }

    /// <summary>
    /// Waits, up to <paramref name="limit"/>, until the box is below <see cref="MachineReport.QuietLimit"/> busy over
    /// one <paramref name="window"/>: a plane still finishing the previous run (evidence appending, the dashboard
    /// ingesting) would take the cores this run measures. Returns the last share seen and how long it waited.
    /// </summary>
    public static Task<(double? Busy, TimeSpan Waited)> SettleAsync(TimeSpan window, TimeSpan limit, CancellationToken cancellationToken) =>
        SettleAsync(ct => BusyShareAsync(window, ct), window, limit, cancellationToken);

    /// <summary><see cref="SettleAsync(TimeSpan, TimeSpan, CancellationToken)"/> over any sampler, each sample taking one window.</summary>
    public static async Task<(double? Busy, TimeSpan Waited)> SettleAsync(Func<CancellationToken, Task<double?>> sample, TimeSpan window,
        TimeSpan limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var waited = TimeSpan.Zero;
        while (true)
        {
            var busy = await sample(cancellationToken);
            if (busy is null || busy <= MachineReport.QuietLimit || waited + window > limit)
            {
                return (busy, waited);
            }

            waited += window;
        }
    }

    public static double? Busy(MachineCounters? before, MachineCounters? after) =>
        before is null || after is null || after.AllTicks <= before.AllTicks
            ? null
            : (double)(after.BusyTicks - before.BusyTicks) / (after.AllTicks - before.AllTicks);

    /// <summary>
    /// The running DAMON schemes that page memory out, with how long a region must have gone untouched first
    /// (minimum age in aggregation intervals); null when none runs.
    /// </summary>
    public static string? ProactivePageout(string sys = "/sys")
    {
        var kdamonds = Path.Combine(sys, "kernel", "mm", "damon", "admin", "kdamonds");
        if (!Directory.Exists(kdamonds))
        {
            return null;
        }

        var found = new List<string>();
        foreach (var kdamond in Directory.EnumerateDirectories(kdamonds).Order(StringComparer.Ordinal))
        {
            if (ReadText(Path.Combine(kdamond, "state"))?.Trim() != "on")
            {
                continue;
            }

            foreach (var context in SubDirectories(Path.Combine(kdamond, "contexts")))
            {
                var aggregation = Number(Path.Combine(context, "monitoring_attrs", "intervals", "aggr_us"));
                foreach (var scheme in SubDirectories(Path.Combine(context, "schemes")))
                {
                    if (ReadText(Path.Combine(scheme, "action"))?.Trim() != "pageout")
                    {
                        continue;
                    }

                    var minAge = Number(Path.Combine(scheme, "access_pattern", "age", "min"));
                    found.Add(aggregation is { } us && minAge is { } age
                        ? $"on: memory untouched for {TimeSpan.FromMicroseconds((double)us * age).TotalSeconds:0.#} s is paged out"
                        : "on: memory it finds cold is paged out");
                }
            }
        }

        return found.Count == 0 ? null : string.Join("; ", found.Distinct(StringComparer.Ordinal));
    }

    public static MachineReport Report(double? busyBefore, MachineCounters? before, MachineCounters? after, string? pageout,
        TimeSpan? youngestService = null) =>
        new(busyBefore,
            before is null || after is null ? null : Math.Max(0, after.FileRefaults - before.FileRefaults) * PageBytes,
            before is null || after is null ? null : Math.Max(0, after.MajorFaults - before.MajorFaults),
            pageout,
            youngestService);

    /// <summary>Linux's USER_HZ, the unit of a process's start time in /proc/&lt;pid&gt;/stat (100 on every mainstream architecture).</summary>
    public const int TicksPerSecond = 100;

    /// <summary>How long ago the youngest of these processes started (start time in /proc/&lt;pid&gt;/stat against /proc/uptime).</summary>
    public static TimeSpan? YoungestProcessAge(IEnumerable<int> processIds, string proc = "/proc")
    {
        ArgumentNullException.ThrowIfNull(processIds);
        var uptime = ReadText(Path.Combine(proc, "uptime"))?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        if (!double.TryParse(uptime, NumberStyles.Float, CultureInfo.InvariantCulture, out var upSeconds))
        {
            return null;
        }

        TimeSpan? youngest = null;
        foreach (var pid in processIds)
        {
            if (ReadText(Path.Combine(proc, pid.ToString(CultureInfo.InvariantCulture), "stat")) is { } stat && StartTicks(stat) is { } ticks)
            {
                var age = TimeSpan.FromSeconds(Math.Max(0, upSeconds - (double)ticks / TicksPerSecond));
                youngest = youngest is { } y && y <= age ? y : age;
            }
        }

        return youngest;
    }

    /// <summary>Field 22 (starttime) of a /proc/&lt;pid&gt;/stat line; the command name before it may hold spaces and parentheses.</summary>
    public static long? StartTicks(string stat)
    {
        ArgumentNullException.ThrowIfNull(stat);
        var close = stat.LastIndexOf(')');
        // After "(comm) " come the fields from 3 (state) on, so field 22 is the 20th.
        var fields = close < 0 ? [] : stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 19 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
    }

    private static long Counter(string vmstat, string name)
    {
        foreach (var line in vmstat.Split('\n'))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && line.AsSpan(0, space).SequenceEqual(name)
                && long.TryParse(line.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
        }

        return 0;
    }

    private static IEnumerable<string> SubDirectories(string path) => Directory.Exists(path)
        ? Directory.EnumerateDirectories(path).Where(d => int.TryParse(Path.GetFileName(d), out _)).Order(StringComparer.Ordinal)
        : [];

    private static long? Number(string path) =>
        long.TryParse(ReadText(path)?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static string? ReadText(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
