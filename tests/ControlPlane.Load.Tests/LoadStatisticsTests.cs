namespace ControlPlane.Load.Tests;

public sealed class LoadStatisticsTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void Percentiles_are_nearest_rank()
    {
        var sorted = Enumerable.Range(1, 100).Select(i => Ms(i)).ToArray();

        Assert.Equal(Ms(50), LoadStatistics.Percentile(sorted, 50));
        Assert.Equal(Ms(95), LoadStatistics.Percentile(sorted, 95));
        Assert.Equal(Ms(99), LoadStatistics.Percentile(sorted, 99));
        Assert.Equal(Ms(100), LoadStatistics.Percentile(sorted, 100));
        Assert.Equal(Ms(7), LoadStatistics.Percentile([Ms(7)], 99));
    }

    [Fact]
    public void Summary_sorts_and_reports_the_maximum()
    {
        var summary = LoadStatistics.Summarize([Ms(30), Ms(10), Ms(20), Ms(400)]);

        Assert.Equal(4, summary.Count);
        Assert.Equal(Ms(20), summary.P50);
        Assert.Equal(Ms(400), summary.P99);
        Assert.Equal(Ms(400), summary.Max);
        Assert.Equal(0, LoadStatistics.Summarize([]).Count);
    }

    [Fact]
    public void Ratio_needs_a_positive_baseline()
    {
        Assert.Equal(0.25, LoadStatistics.Ratio(250, 1000));
        Assert.Null(LoadStatistics.Ratio(250, 0));
        Assert.Null(LoadStatistics.Ratio(250, null));
    }

    [Fact]
    public void Open_loop_schedule_releases_one_submission_every_one_over_rate_seconds()
    {
        var duration = TimeSpan.FromSeconds(15);

        Assert.Equal(150, LoadStatistics.TotalOffered(10, duration));
        Assert.Equal(0, LoadStatistics.DueBy(TimeSpan.FromSeconds(-1), 10, duration));
        Assert.Equal(1, LoadStatistics.DueBy(TimeSpan.Zero, 10, duration));
        Assert.Equal(1, LoadStatistics.DueBy(Ms(99), 10, duration));
        Assert.Equal(2, LoadStatistics.DueBy(Ms(100), 10, duration));
        Assert.Equal(150, LoadStatistics.DueBy(TimeSpan.FromSeconds(60), 10, duration)); // never past the run's total
    }

    [Fact]
    public void Throughput_spans_first_start_to_last_end()
    {
        var start = DateTimeOffset.UnixEpoch;

        Assert.Equal(50, LoadStatistics.Throughput(100, start, start.AddSeconds(2)));
        Assert.Null(LoadStatistics.Throughput(1, start, start.AddSeconds(2)));
        Assert.Null(LoadStatistics.Throughput(10, start, start));
    }

    [Fact]
    public void Mix_gives_each_environment_its_weight_in_every_cycle()
    {
        var mix = LoadOptions.ParseMix("production=3:dev=1");
        var cycle = Enumerable.Range(0, 8).Select(i => LoadStatistics.EnvironmentFor(i, mix)).ToArray();

        Assert.Equal(["production", "production", "production", "dev", "production", "production", "production", "dev"], cycle);
        Assert.Equal([("production", 1), ("dev", 1)], LoadOptions.ParseMix("production:dev"));
    }

    [Fact]
    public void Options_parse_the_documented_command_line_and_refuse_nonsense()
    {
        var options = LoadOptions.Parse(["--rate", "50", "--duration", "15s", "--agents", "2", "--mix", "production:dev", "--drain", "500ms", "--no-baselines"]);

        Assert.Equal(50, options.Rate);
        Assert.Equal(TimeSpan.FromSeconds(15), options.Duration);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.Drain);
        Assert.Equal(["remediation-agent", "testing-agent"], options.Agents);
        Assert.False(options.Baselines);
        Assert.Equal(TimeSpan.FromMinutes(2), LoadOptions.ParseDuration("2m"));
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--rate", "0"]));
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--agents", "3"]));
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--mix", "staging"]));
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--duration"]));
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--frobnicate", "1"]));
    }
}
