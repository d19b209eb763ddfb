using ControlPlane.Evidence.Autonomy;

namespace ControlPlane.Evidence.Tests.Autonomy;

public sealed class RefreshPacingTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(0)]
    [InlineData(40)]
    [InlineData(660)] // 35,550 proposals of one day's load runs
    public void A_cheap_refresh_keeps_the_configured_interval(int tookMs) =>
        Assert.Equal(Interval, RefreshPacing.NextWait(Interval, TimeSpan.FromMilliseconds(tookMs)));

    [Theory]
    [InlineData(2_000)]
    [InlineData(20_000)]
    [InlineData(90_000)]
    public void A_costly_refresh_waits_until_refreshing_is_a_twentieth_of_the_time(int tookMs)
    {
        var took = TimeSpan.FromMilliseconds(tookMs);
        var wait = RefreshPacing.NextWait(Interval, took);

        Assert.True(wait > Interval);
        Assert.Equal(1.0 / RefreshPacing.CostShare, took / (took + wait), precision: 9);
    }

    [Fact]
    public void A_failed_refresh_is_retried_at_the_interval_however_long_it_hung() =>
        Assert.Equal(Interval, RefreshPacing.NextWait(Interval, null));

    [Fact]
    public void The_interval_must_be_positive() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => RefreshPacing.NextWait(TimeSpan.Zero, TimeSpan.FromSeconds(1)));
}
