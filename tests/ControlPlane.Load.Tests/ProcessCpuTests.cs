namespace ControlPlane.Load.Tests;

/// <summary>Reading CPU time from /proc/&lt;pid&gt;/stat lines and turning two readings into a per-proposal profile.</summary>
public sealed class ProcessCpuTests
{
    [Fact]
    public void A_stat_line_gives_command_own_and_children_ticks_even_when_the_name_holds_spaces_and_parentheses()
    {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
        const string stat = "4242 (Web Content (x) 2) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 700 8 20 0 12 0 99 1000 50";
        var parsed = ProcessCpu.Parse(stat);
        Assert.NotNull(parsed);
        Assert.Equal("Web Content (x) 2", parsed.Value.Command);
        Assert.Equal(1290, parsed.Value.Own);
        Assert.Equal(708, parsed.Value.Children);
        Assert.Null(ProcessCpu.Parse("4242 (truncated) S 1 2"));
    }

    [Fact]
    public void Services_are_read_by_their_pid_and_servers_by_command_name_postgres_with_its_ended_backends()
    {
        var proc = Directory.CreateTempSubdirectory("proc").FullName;
        try
        {
            Stat(proc, 10, "ControlPlane.Po", 300, 20, 0, 0);
            Stat(proc, 20, "postgres", 10, 5, 400, 100);
            Stat(proc, 21, "postgres", 30, 0, 0, 0);
            Stat(proc, 30, "beam.smp", 70, 30, 9, 9);
            Stat(proc, 40, "bash", 999, 999, 0, 0);
            var ticks = ProcessCpu.Read([new ServiceRss("policy", 5103, 10, 1), new ServiceRss("fleet", 5105, null, null)], proc)
                .ToDictionary(t => t.Group, t => t.Ticks);

            Assert.Equal(320, ticks["policy"]);
            Assert.Equal(10 + 5 + 400 + 100 + 30, ticks["postgresql"]);
            Assert.Equal(100, ticks["rabbitmq"]); // children not counted: only PostgreSQL's ended backends belong to it
            Assert.False(ticks.ContainsKey("fleet"));
            Assert.Equal(3, ticks.Count);
        }
        finally
        {
            Directory.Delete(proc, recursive: true);
        }
    }

    [Fact]
    public void Two_readings_become_milliseconds_per_proposal_largest_first_with_shares()
    {
        CpuTicks[] before = [new("policy", 100), new("postgresql", 1000), new("gone", 5)];
        CpuTicks[] after = [new("policy", 150), new("postgresql", 1150), new("new", 70)];
        var shares = ProcessCpu.PerUnit(before, after, units: 10);

        Assert.Equal(["postgresql", "policy"], shares.Select(s => s.Group));
        Assert.Equal(150.0, shares[0].MillisecondsPerUnit, 6); // 150 ticks = 1.5 s over 10 proposals
        Assert.Equal(50.0, shares[1].MillisecondsPerUnit, 6);
        Assert.Equal(0.75, shares[0].ShareOfTotal, 6);
        Assert.Empty(ProcessCpu.PerUnit(before, after, 0));
    }

    private static void Stat(string proc, int pid, string command, long utime, long stime, long cutime, long cstime)
    {
        var directory = Path.Combine(proc, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "stat"),
            $"{pid} ({command}) S 1 {pid} {pid} 0 -1 4194560 100 0 0 0 {utime} {stime} {cutime} {cstime} 20 0 12 0 99 1000 50");
    }
}
