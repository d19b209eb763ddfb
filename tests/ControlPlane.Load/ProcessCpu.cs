using System.Globalization;

namespace ControlPlane.Load;

/// <summary>CPU time one process group used, in clock ticks (user + system).</summary>
public sealed record CpuTicks(string Group, long Ticks);

/// <summary>One group's share of a run: CPU milliseconds per proposal (or record) and of all the CPU the run used.</summary>
public sealed record CpuShare(string Group, double MillisecondsPerUnit, double ShareOfTotal);

/// <summary>
/// Where a run's CPU went, process by process, read from /proc before and after (Linux; nothing is asked of the
/// services): each service by the process on its port, and the servers and the AppHost's own processes by name
/// (PostgreSQL with the time of backends that ended, RabbitMQ, Redis, the Aspire dashboard, DCP). On two cores this
/// is what bounds throughput: 2,000 ms of CPU a second divided by the milliseconds one proposal costs.
/// </summary>
public static class ProcessCpu
{
    /// <summary>Linux reports /proc times in USER_HZ ticks, 100 a second on every architecture .NET runs on.</summary>
    public const double TicksPerSecond = 100;

    private static readonly (string Prefix, string Group, bool WithChildren)[] Servers =
    [
        ("postgres", "postgresql", true), ("beam.smp", "rabbitmq", false), ("redis-server", "redis", false),
        ("Aspire.Dashboar", "aspire dashboard", false), ("dcp", "dcp (aspire)", false),
    ];

    public static IReadOnlyList<CpuTicks> Read(IReadOnlyList<ServiceRss> services, string proc = "/proc")
    {
        ArgumentNullException.ThrowIfNull(services);
        var groups = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var s in services)
        {
            if (s.ProcessId is { } pid && StatLine(proc, pid) is { } stat && Parse(stat) is { } t)
            {
                groups[s.Service] = t.Own;
            }
        }

        foreach (var directory in Directory.EnumerateDirectories(proc))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                || StatLine(proc, pid) is not { } stat || Parse(stat) is not { } t)
            {
                continue;
            }

            foreach (var (prefix, group, withChildren) in Servers)
            {
                if (t.Command.StartsWith(prefix, StringComparison.Ordinal))
                {
                    groups[group] = groups.GetValueOrDefault(group) + t.Own + (withChildren ? t.Children : 0);
                    break;
                }
            }
        }

        return groups.Select(g => new CpuTicks(g.Key, g.Value)).ToArray();
    }

    /// <summary>
    /// Command name, own ticks (utime + stime) and reaped children's ticks (cutime + cstime) of a /proc/&lt;pid&gt;/stat
    /// line. The name is in parentheses and may hold spaces, so fields are counted after the last ')'.
    /// </summary>
    public static (string Command, long Own, long Children)? Parse(string stat)
    {
        ArgumentNullException.ThrowIfNull(stat);
        var open = stat.IndexOf('(', StringComparison.Ordinal);
        var close = stat.LastIndexOf(')');
        if (open < 0 || close < open)
        {
            return null;
        }

        // After ')': state (field 3), ..., utime (14), stime (15), cutime (16), cstime (17).
        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 15 || !long.TryParse(fields[11], out var utime) || !long.TryParse(fields[12], out var stime)
            || !long.TryParse(fields[13], out var cutime) || !long.TryParse(fields[14], out var cstime))
        {
            return null;
        }

        return (stat[(open + 1)..close], utime + stime, cutime + cstime);
    }

    /// <summary>What each group used between two readings, per proposal (or record), largest first; a group missing from either is left out.</summary>
    public static IReadOnlyList<CpuShare> PerUnit(IReadOnlyList<CpuTicks> before, IReadOnlyList<CpuTicks> after, int units)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        if (units <= 0)
        {
            return [];
        }

        var start = before.ToDictionary(b => b.Group, b => b.Ticks, StringComparer.Ordinal);
        var used = after.Where(a => start.ContainsKey(a.Group))
            .Select(a => (a.Group, Ticks: Math.Max(0, a.Ticks - start[a.Group])))
            .ToList();
        var total = used.Sum(u => u.Ticks);
        return used
            .Select(u => new CpuShare(u.Group, u.Ticks * 1000 / TicksPerSecond / units, total == 0 ? 0 : (double)u.Ticks / total))
            .OrderByDescending(s => s.MillisecondsPerUnit)
            .ThenBy(s => s.Group, StringComparer.Ordinal)
            .ToArray();
    }

    private static string? StatLine(string proc, int pid)
    {
        try
        {
            return File.ReadAllText(Path.Combine(proc, pid.ToString(CultureInfo.InvariantCulture), "stat"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // ended meanwhile, or someone else's
        }
    }
}
