using ControlPlane.Cli.Commands;

namespace ControlPlane.Cli.Tests.Policy;

/// <summary>`controlplane policy simulate`'s window options become the body of POST /policies/{hash}/simulate.</summary>
public sealed class PolicySimulateWindowTests
{
    [Fact]
    public void Without_options_the_last_100_decisions_are_replayed()
    {
        Assert.True(PolicySimulateCommand.TryWindow(null, null, null, out var window, out _));
        Assert.Equal(100, Assert.Single(window, p => p.Key == "last").Value);
    }

    [Fact]
    public void Since_takes_a_duration_back_from_now_or_a_time_and_until_bounds_it()
    {
        Assert.True(PolicySimulateCommand.TryWindow(null, "24h", null, out var back, out _));
        var from = Assert.IsType<DateTimeOffset>(back["from"]);
        Assert.InRange(DateTimeOffset.UtcNow - from, TimeSpan.FromHours(23.9), TimeSpan.FromHours(24.1));
        Assert.False(back.ContainsKey("last"));

        Assert.True(PolicySimulateCommand.TryWindow(null, "2026-12-04T10:00:00Z", "2026-12-04T18:00:00Z", out var fixedWindow, out _));
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 10, 0, 0, TimeSpan.Zero), fixedWindow["from"]);
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 18, 0, 0, TimeSpan.Zero), fixedWindow["to"]);
    }

    [Theory]
    [InlineData(5, "24h", null, "not both")]
    [InlineData(null, null, "2026-12-04T18:00:00Z", "--until needs --since")]
    [InlineData(null, "yesterday", null, "neither a duration")]
    public void Contradictory_or_unreadable_options_are_refused_with_a_reason(int? last, string? since, string? until, string reason)
    {
        Assert.False(PolicySimulateCommand.TryWindow(last, since, until, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
