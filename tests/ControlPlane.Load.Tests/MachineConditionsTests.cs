namespace ControlPlane.Load.Tests;

/// <summary>Reading how busy the box is, what the kernel paged back in, and whether a proactive pageout runs, from fake /proc and /sys trees.</summary>
public sealed class MachineConditionsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("machine").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Counters_come_from_the_cpu_line_and_vmstat_and_two_readings_give_the_busy_share()
    {
        var proc = Proc("cpu  100 0 50 800 50 0 0 0 0 0", refaults: 1000, majorFaults: 7);
        var before = MachineConditions.Read(proc);
        Assert.Equal(new MachineCounters(BusyTicks: 150, AllTicks: 1000, FileRefaults: 1000, MajorFaults: 7), before);

        Proc("cpu  400 0 150 1300 150 0 0 0 0 0", refaults: 1000 + 40_000, majorFaults: 9);
        var after = MachineConditions.Read(proc);

        Assert.Equal(0.4, MachineConditions.Busy(before, after)!.Value, 6); // 400 busy of 1,000 ticks
        var report = MachineConditions.Report(0.4, before, after, null);
        Assert.Equal(40_000 * MachineConditions.PageBytes, report.RefaultedBytes);
        Assert.Equal(2, report.MajorFaults);
        Assert.Equal(2, report.Warnings.Count); // busy above 25%, and 156 MB read back
    }

    [Fact]
    public void A_quiet_box_that_paged_nothing_back_in_gets_no_warning_and_missing_files_give_no_figures()
    {
        var report = MachineConditions.Report(0.1, new MachineCounters(0, 100, 5, 0), new MachineCounters(10, 200, 5 + 100, 0), null);
        Assert.Empty(report.Warnings);

        Assert.Null(MachineConditions.Read(Path.Combine(_root, "no-proc")));
        Assert.Null(MachineConditions.Busy(null, new MachineCounters(1, 2, 3, 4)));
        Assert.Null(MachineConditions.Report(null, null, null, null).RefaultedBytes);
    }

    [Fact]
    public void A_running_damon_pageout_scheme_is_reported_with_how_long_memory_must_be_untouched()
    {
        var sys = Path.Combine(_root, "sys");
        Assert.Null(MachineConditions.ProactivePageout(sys));

        var context = Path.Combine(sys, "kernel", "mm", "damon", "admin", "kdamonds", "0", "contexts", "0");
        Write(Path.Combine(sys, "kernel", "mm", "damon", "admin", "kdamonds", "0", "state"), "off\n");
        Write(Path.Combine(context, "monitoring_attrs", "intervals", "aggr_us"), "500000\n");
        Write(Path.Combine(context, "schemes", "0", "action"), "pageout\n");
        Write(Path.Combine(context, "schemes", "0", "access_pattern", "age", "min"), "12\n");
        Write(Path.Combine(context, "schemes", "1", "action"), "stat\n");
        Assert.Null(MachineConditions.ProactivePageout(sys)); // not running

        Write(Path.Combine(sys, "kernel", "mm", "damon", "admin", "kdamonds", "0", "state"), "on\n");
        Assert.Equal("on: memory untouched for 6 s is paged out", MachineConditions.ProactivePageout(sys));
    }

    [Fact]
    public async Task Settling_waits_while_the_box_is_busy_and_gives_up_at_its_limit()
    {
        var window = TimeSpan.FromSeconds(2);
        var busyThenQuiet = new Queue<double?>([0.95, 0.6, 0.18, 0.9]);
        var settled = await MachineConditions.SettleAsync(_ => Task.FromResult(busyThenQuiet.Dequeue()), window, TimeSpan.FromSeconds(60), CancellationToken.None);
        Assert.Equal((0.18, TimeSpan.FromSeconds(4)), settled);

        var samples = 0;
        var neverQuiet = await MachineConditions.SettleAsync(_ =>
        {
            samples++;
            return Task.FromResult<double?>(0.9);
        }, window, TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal((0.9, TimeSpan.FromSeconds(4)), neverQuiet); // a third window would pass the 5 s limit
        Assert.Equal(3, samples);

        var unreadable = await MachineConditions.SettleAsync(_ => Task.FromResult<double?>(null), window, TimeSpan.FromSeconds(60), CancellationToken.None);
        Assert.Equal((null, TimeSpan.Zero), unreadable); // not Linux: nothing to wait for
    }

    [Fact]
    public void The_settle_limit_is_an_option_and_can_be_turned_off()
    {
        Assert.Equal(TimeSpan.FromSeconds(60), LoadOptions.Parse([]).Settle);
        Assert.Equal(TimeSpan.FromSeconds(30), LoadOptions.Parse(["--settle", "30s"]).Settle);
        Assert.Null(LoadOptions.Parse(["--no-settle"]).Settle);
    }

    [Fact]
    public void The_youngest_service_age_comes_from_each_process_start_against_the_uptime()
    {
        var proc = Path.Combine(_root, "proc");
        Write(Path.Combine(proc, "uptime"), "22911.16 12968.74\n");
        // A command name with a space and a parenthesis must not shift the fields; starttime is field 22, in 1/100 s.
        Write(Path.Combine(proc, "4242", "stat"), "4242 (ControlPlane.E (x)) S 1 4242 8163 0 -1 4194304 124 0 0 0 0 0 0 0 20 0 9 0 2283116 3133440 383\n");
        Write(Path.Combine(proc, "4343", "stat"), "4343 (ControlPlane.Policy) S 1 4343 8163 0 -1 4194304 124 0 0 0 0 0 0 0 20 0 9 0 1000000 3133440 383\n");

        var youngest = MachineConditions.YoungestProcessAge([4242, 4343, 999], proc); // 999 has no /proc entry
        Assert.Equal(80.0, youngest!.Value.TotalSeconds, 2); // 22,911.16 s up, started at 22,831.16 s

        var warming = MachineConditions.Report(0.1, null, null, null, youngest);
        Assert.Contains(warming.Warnings, w => w.StartsWith("a service had started 80 s before the run", StringComparison.Ordinal));
        Assert.Empty(MachineConditions.Report(0.1, null, null, null, TimeSpan.FromMinutes(10)).Warnings);
        Assert.Null(MachineConditions.YoungestProcessAge([4242], Path.Combine(_root, "no-proc")));
        Assert.Null(MachineConditions.StartTicks("4242 (truncated) S 1"));
    }

    private string Proc(string cpuLine, long refaults, long majorFaults)
    {
        var proc = Path.Combine(_root, "proc");
        Write(Path.Combine(proc, "stat"), $"{cpuLine}\ncpu0 1 2 3 4 5 6 7 8 0 0\nctxt 99\n");
        Write(Path.Combine(proc, "vmstat"), $"nr_free_pages 10\nworkingset_refault_anon 3\nworkingset_refault_file {refaults}\npgmajfault {majorFaults}\n");
        return proc;
    }

    private static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
