using System.Globalization;

namespace ControlPlane.Load;

/// <summary>
/// A service's resident memory (VmRSS of the process listening on its port) and the anonymous part of it (RssAnon:
/// heaps and JIT code, the process's own; the rest is mapped files such as the shared runtime, counted in every process).
/// </summary>
public sealed record ServiceRss(string Service, int Port, int? ProcessId, long? RssBytes, long? AnonBytes = null);

/// <summary>
/// Resident memory of the plane's services, found by their fixed ports (ControlPlane.AppHost/LocalPorts.cs): the
/// process that holds the listening socket, read from /proc (Linux). Nothing is asked of the services themselves.
/// </summary>
public static class ServiceMemory
{
    /// <summary>The services ./run.sh starts and their ports (run.sh NAMES/PORTS).</summary>
    public static readonly IReadOnlyList<(string Service, int Port)> PlanePorts =
    [
        ("identity", 5101), ("system-graph", 5102), ("policy", 5103), ("orchestrator", 5104), ("fleet", 5105), ("evidence", 5106),
        ("console", 5107), ("witness", 5108), ("runner-testing-1", 5110), ("runner-remediation-1", 5111),
    ];

    public static IReadOnlyList<ServiceRss> Read() => Read(PlanePorts);

    public static IReadOnlyList<ServiceRss> Read(IReadOnlyList<(string Service, int Port)> services, string proc = "/proc")
    {
        ArgumentNullException.ThrowIfNull(services);
        var inodes = ListeningInodes(proc);
        var owners = SocketOwners(proc, inodes.Values.SelectMany(i => i).ToHashSet());
        return services.Select(p =>
        {
            var pid = inodes.TryGetValue(p.Port, out var sockets) ? sockets.Select(s => owners.GetValueOrDefault(s)).FirstOrDefault(o => o != 0) : 0;
            var status = pid == 0 ? [] : Status(Path.Combine(proc, pid.ToString(CultureInfo.InvariantCulture), "status"));
            return new ServiceRss(p.Service, p.Port, pid == 0 ? null : pid, ParseKb(status, "VmRSS:"), ParseKb(status, "RssAnon:"));
        }).ToArray();
    }

    /// <summary>Listening TCP sockets by local port, from /proc/net/tcp and tcp6 ("0A" is LISTEN).</summary>
    public static Dictionary<int, List<long>> ParseListening(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var byPort = new Dictionary<int, List<long>>();
        foreach (var line in lines)
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var colon = fields.Length >= 10 && fields[3] == "0A" ? fields[1].LastIndexOf(':') : -1;
            if (colon < 0)
            {
                continue;
            }

            if (!int.TryParse(fields[1].AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var port)
                || !long.TryParse(fields[9], NumberStyles.None, CultureInfo.InvariantCulture, out var inode) || inode == 0)
            {
                continue;
            }

            (byPort.TryGetValue(port, out var list) ? list : byPort[port] = []).Add(inode);
        }

        return byPort;
    }

    /// <summary>A kB field ("VmRSS:", "RssAnon:") of a /proc/&lt;pid&gt;/status text, in bytes.</summary>
    public static long? ParseKb(IEnumerable<string> statusLines, string field)
    {
        ArgumentNullException.ThrowIfNull(statusLines);
        var line = statusLines.FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        var parts = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts is { Length: >= 3 } && parts[2] == "kB" && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var kb)
            ? kb * 1024
            : null;
    }

    private static Dictionary<int, List<long>> ListeningInodes(string proc)
    {
        var lines = new List<string>();
        foreach (var file in new[] { "net/tcp", "net/tcp6" })
        {
            var path = Path.Combine(proc, file);
            if (File.Exists(path))
            {
                lines.AddRange(File.ReadLines(path).Skip(1));
            }
        }

        return ParseListening(lines);
    }

    private static Dictionary<long, int> SocketOwners(string proc, HashSet<long> wanted)
    {
        var owners = new Dictionary<long, int>();
        foreach (var directory in Directory.EnumerateDirectories(proc))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                foreach (var fd in Directory.EnumerateFiles(Path.Combine(directory, "fd")))
                {
                    // "socket:[12345]"
                    if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal)
                        && long.TryParse(target.AsSpan(8, target.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out var inode)
                        && wanted.Contains(inode))
                    {
                        owners.TryAdd(inode, pid);
                    }
                }
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                // a process that ended meanwhile, or someone else's
            }
        }

        return owners;
    }

    private static string[] Status(string statusPath)
    {
        try
        {
            return File.ReadAllLines(statusPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
