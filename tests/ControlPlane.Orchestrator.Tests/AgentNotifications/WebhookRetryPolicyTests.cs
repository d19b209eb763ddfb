using ControlPlane.Orchestrator.AgentNotifications;

namespace ControlPlane.Orchestrator.Tests.AgentNotifications;

public sealed class WebhookRetryPolicyTests
{
    private static readonly WebhookRetryPolicy Policy = new(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(30), TimeSpan.FromDays(1));
    private static readonly DateTimeOffset Created = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(200, AttemptVerdict.Delivered)]
    [InlineData(204, AttemptVerdict.Delivered)]
    [InlineData(null, AttemptVerdict.Retry)]     // network error or timeout
    [InlineData(500, AttemptVerdict.Retry)]
    [InlineData(503, AttemptVerdict.Retry)]
    [InlineData(408, AttemptVerdict.Retry)]
    [InlineData(429, AttemptVerdict.Retry)]
    [InlineData(400, AttemptVerdict.GiveUp)]
    [InlineData(401, AttemptVerdict.GiveUp)]
    [InlineData(404, AttemptVerdict.GiveUp)]
    [InlineData(410, AttemptVerdict.GiveUp)]
    [InlineData(301, AttemptVerdict.GiveUp)]     // redirects are not followed
    public void Only_passing_troubles_are_retried(int? status, AttemptVerdict expected) =>
        Assert.Equal(expected, WebhookRetryPolicy.Classify(status));

    [Fact]
    public void The_delay_doubles_from_the_first_and_stops_at_the_cap()
    {
        // jitter 0.5 is the middle of the ±20 % spread: the nominal delay.
        Assert.Equal(TimeSpan.FromSeconds(5), Policy.Backoff(1, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(10), Policy.Backoff(2, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(40), Policy.Backoff(4, 0.5));
        Assert.Equal(TimeSpan.FromMinutes(30), Policy.Backoff(20, 0.5));
        Assert.Equal(TimeSpan.FromMinutes(30), Policy.Backoff(int.MaxValue, 0.5));
    }

    [Fact]
    public void Jitter_spreads_the_delay_by_at_most_a_fifth()
    {
        Assert.Equal(TimeSpan.FromSeconds(8), Policy.Backoff(2, 0));
        Assert.Equal(TimeSpan.FromSeconds(12), Policy.Backoff(2, 1));
    }

    [Fact]
    public void A_longer_retry_after_wins_and_a_shorter_one_does_not_hurry_the_retry()
    {
        var now = Created.AddMinutes(1);

        Assert.Equal(now.AddMinutes(2), Policy.NextAttempt(Created, now, 1, TimeSpan.FromMinutes(2), 0.5));
        Assert.Equal(now.AddSeconds(5), Policy.NextAttempt(Created, now, 1, TimeSpan.FromSeconds(1), 0.5));
    }

    [Fact]
    public void Past_the_window_the_delivery_is_given_up()
    {
        Assert.NotNull(Policy.NextAttempt(Created, Created.AddHours(23), 10, null, 0.5));
        Assert.Null(Policy.NextAttempt(Created, Created.AddHours(23).AddMinutes(50), 12, null, 0.5));
        // A Retry-After beyond the window gives up too, rather than waiting past it.
        Assert.Null(Policy.NextAttempt(Created, Created.AddHours(1), 1, TimeSpan.FromDays(2), 0.5));
    }

    [Theory]
    [InlineData("120", 120)]
    [InlineData(" 7 ", 7)]
    [InlineData("Fri, 04 Dec 2026 12:01:30 GMT", 90)]
    [InlineData("Fri, 04 Dec 2026 11:00:00 GMT", 0)]
    public void Retry_after_is_read_as_seconds_or_an_http_date(string value, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), WebhookRetryPolicy.ParseRetryAfter(value, Created));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-5")]
    public void An_unreadable_retry_after_is_ignored(string? value) =>
        Assert.Null(WebhookRetryPolicy.ParseRetryAfter(value, Created));
}
