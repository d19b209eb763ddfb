using System.Net;
using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Tests.Infrastructure;
using ControlPlane.Testing;

namespace ControlPlane.Orchestrator.Tests.Integration;

public sealed class RateLimitedPlane(IdentityFixture identity) : PlaneFixture(identity, "orch-rate")
{
    public const int PerMinute = 3;

    protected override void Configure(PlaneSettings settings) => settings.Set("Orchestrator:RateLimit:PerMinute", PerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>Intake is limited per principal in Redis and answers 429 with Retry-After.</summary>
public sealed class RateLimitTests(RateLimitedPlane fixture) : IClassFixture<RateLimitedPlane>
{
    [Fact]
    public async Task A_principal_over_its_limit_gets_429_with_retry_after_and_others_are_unaffected()
    {
        var plane = fixture.Plane;
        using var http = await plane.AgentAsync(IdentityFixture.WatcherAgent);
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        // A window boundary may fall inside the burst: send enough that one window surely overflows.
        for (var i = 0; i < (RateLimitedPlane.PerMinute * 2) + 1; i++)
        {
            last?.Dispose();
            last = await http.PostAsJsonAsync("proposals", OrchestratorPlane.Proposal($"rate-{i}-{Guid.NewGuid():N}"), ContractJson.Options);
            statuses.Add(last.StatusCode);
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, last!.StatusCode);
        Assert.Equal("application/problem+json", last.Content.Headers.ContentType?.MediaType);
        var retryAfter = last.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter!.Value.TotalSeconds, 1, 60);
        last.Dispose();

        var other = await plane.SubmitAsync(IdentityFixture.TestingAgent, OrchestratorPlane.Proposal($"rate-other-{Guid.NewGuid():N}"));
        Assert.NotEqual(Guid.Empty, other);
        await plane.Bus.WaitForAsync<ProposalSubmissionRefused>(r => r.AgentId == IdentityFixture.WatcherAgent && r.Reason == "rate limit exceeded",
            "the rate-limit refusal recorded");
    }
}

public sealed class RedisDownPlane(IdentityFixture identity) : PlaneFixture(identity, "orch-noredis")
{
    // A port nothing listens on: Redis is unreachable from the first request on.
    private readonly TcpProxy _deadRedis = new("127.0.0.1", 6379);

    protected override void Configure(PlaneSettings settings) => settings.Set("ConnectionStrings:cache", $"127.0.0.1:{_deadRedis.Port}");
}

/// <summary>Rate limiting must never cost a proposal: with Redis down, intake still accepts and stores.</summary>
public sealed class RedisDownIntakeTests(RedisDownPlane fixture) : IClassFixture<RedisDownPlane>
{
    [Fact]
    public async Task Proposals_are_accepted_and_stored_while_redis_is_unreachable()
    {
        var plane = fixture.Plane;

        var id = await plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal($"noredis-{Guid.NewGuid():N}"));
        var stored = await plane.GetAsync(id);

        Assert.Equal(ProposalState.Submitted, stored.State);
        await plane.Bus.WaitForAsync<ProposalSubmitted>(s => s.ProposalId == id, "ProposalSubmitted despite Redis being down");

        // Still ready for traffic: the cache check degrades instead of failing readiness.
        using var http = plane.Host!.CreateHttpClient();
        using var health = await http.GetAsync("health");
        var body = System.Text.Json.JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement;
        Assert.True(health.StatusCode == System.Net.HttpStatusCode.OK, body.ToString());
        Assert.Equal("Degraded", body.GetProperty("checks").GetProperty("cache").GetProperty("status").GetString());
    }
}
