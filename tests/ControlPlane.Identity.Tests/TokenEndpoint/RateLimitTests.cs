using System.Net;
using ControlPlane.Identity.Tests.Infrastructure;
using ControlPlane.ServiceDefaults.Caching;
using ControlPlane.ServiceDefaults.Security.RateLimiting;
using ControlPlane.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.Identity.Tests.TokenEndpoint;

/// <summary>The shared Redis sliding-window limiter (ServiceDefaults) against the real Redis.</summary>
public sealed class RedisRateLimiterTests
{
    private static RedisRateLimiter Limiter(string connection) =>
        new(new RedisConnection(connection, PlaneSettings.NewRedisPrefix()), NullLogger<RedisRateLimiter>.Instance);

    [Fact]
    public async Task Allows_the_limit_then_answers_limited_with_a_retry_after_inside_the_window_then_allows_again()
    {
        var limiter = Limiter(TestServers.Redis);
        var rule = new RateLimitRule("test", 3, TimeSpan.FromSeconds(2));

        var decisions = new List<RateLimitDecision>();
        for (var i = 0; i < 4; i++)
        {
            decisions.Add(await limiter.AcquireAsync(rule, "principal-a", TestContext.Current.CancellationToken));
        }

        var other = await limiter.AcquireAsync(rule, "principal-b", TestContext.Current.CancellationToken);

        Assert.Equal([RateLimitOutcome.Allowed, RateLimitOutcome.Allowed, RateLimitOutcome.Allowed, RateLimitOutcome.Limited], decisions.Select(d => d.Outcome));
        Assert.Equal([2, 1, 0], decisions.Take(3).Select(d => d.Remaining));
        Assert.InRange(decisions[3].RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(2));
        Assert.Equal(RateLimitOutcome.Allowed, other.Outcome);

        await Task.Delay(decisions[3].RetryAfter + TimeSpan.FromMilliseconds(50), TestContext.Current.CancellationToken);
        Assert.Equal(RateLimitOutcome.Allowed, (await limiter.AcquireAsync(rule, "principal-a", TestContext.Current.CancellationToken)).Outcome);
    }

    [Fact]
    public async Task An_unreachable_Redis_is_reported_as_unavailable_quickly_never_thrown()
    {
        var redis = TestServers.Redis.Split(':');
        await using var proxy = new TcpProxy(redis[0], int.Parse(redis[1], System.Globalization.CultureInfo.InvariantCulture));
        proxy.Start();
        var limiter = Limiter($"127.0.0.1:{proxy.Port}");
        var rule = new RateLimitRule("test", 3, TimeSpan.FromSeconds(10));
        Assert.Equal(RateLimitOutcome.Allowed, (await limiter.AcquireAsync(rule, "p", TestContext.Current.CancellationToken)).Outcome);

        proxy.Stop();
        var started = DateTimeOffset.UtcNow;
        var decision = await limiter.AcquireAsync(rule, "p", TestContext.Current.CancellationToken);

        Assert.Equal(RateLimitOutcome.Unavailable, decision.Outcome);
        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(5));
    }
}

/// <summary>identity with tight token-endpoint limits: 3 per client and 2 per address in 30 s.</summary>
public sealed class TightLimits : PlaneFixture
{
    protected override string Purpose => "rate-limit";

    protected override void Configure(PlaneSettings settings) => settings
        .Set("Identity:RateLimits:PerClient:Limit", "3")
        .Set("Identity:RateLimits:PerClient:Window", "00:00:30")
        .Set("Identity:RateLimits:PerAddress:Limit", "2")
        .Set("Identity:RateLimits:PerAddress:Window", "00:00:30");
}

public sealed class TokenEndpointRateLimitTests(TightLimits fixture) : IClassFixture<TightLimits>
{
    private readonly IdentityPlane _plane = fixture.Plane;

    [Fact]
    public async Task A_client_over_its_limit_gets_429_with_Retry_After()
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["audience"] = "policy" };
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 4; i++)
        {
            var (status, _, response) = await _plane.TokenRequestAsync(form, IdentityPlane.SeededAgent, TestIdentity.AgentSecret);
            statuses.Add(status);
            last = response;
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        var retryAfter = last!.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        Assert.Contains(_plane.Logs.Lines, l => l.Contains("token-client rate limit", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Requests_that_name_no_client_are_limited_per_address()
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["audience"] = "policy" };

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await _plane.TokenRequestAsync(form)).Status);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
    }
}

/// <summary>The token endpoint fails closed when Redis (rate limits, lockouts, replay cache) is unreachable.</summary>
public sealed class RedisOutageTests
{
    [Fact]
    public async Task Without_Redis_the_token_endpoint_answers_503_and_recovers_when_Redis_is_back()
    {
        var redis = TestServers.Redis.Split(':');
        await using var proxy = new TcpProxy(redis[0], int.Parse(redis[1], System.Globalization.CultureInfo.InvariantCulture));
        proxy.Start();
        await using var plane = await IdentityPlane.StartAsync("redis-outage", configure: s => s.Set("ConnectionStrings:cache", $"127.0.0.1:{proxy.Port}"));
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["audience"] = "policy" };
        Assert.Equal(HttpStatusCode.OK, (await plane.TokenRequestAsync(form, IdentityPlane.SeededAgent, TestIdentity.AgentSecret)).Status);

        proxy.Stop();
        var (status, _, response) = await plane.TokenRequestAsync(form, IdentityPlane.SeededAgent, TestIdentity.AgentSecret);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.NotNull(response.Headers.RetryAfter);
        proxy.Start();
        await Eventually.UntilAsync(async () => (await plane.TokenRequestAsync(form, IdentityPlane.SeededAgent, TestIdentity.AgentSecret)).Status == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30), "tokens again once Redis is reachable");
    }
}
