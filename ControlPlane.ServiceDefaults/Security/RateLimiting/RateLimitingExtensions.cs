using ControlPlane.ServiceDefaults.Caching;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace ControlPlane.ServiceDefaults.Security.RateLimiting;

public static class RateLimitingExtensions
{
    /// <summary>
    /// Registers <see cref="RedisRateLimiter"/>; call after <see cref="RedisExtensions.AddRedisCache{TBuilder}"/>. Use:
    /// <code>
    /// var rule = RateLimitRule.FromConfiguration(configuration, "Orchestrator:RateLimits:Intake", "proposal-intake", 60, TimeSpan.FromMinutes(1));
    /// var decision = await limiter.AcquireAsync(rule, "principal:" + http.GetCaller().Id, ct);
    /// if (decision.Outcome == RateLimitOutcome.Limited) return RateLimitResults.TooManyRequests(http, decision);
    /// // Unavailable: the caller decides (identity's token endpoint answers 503; proposal intake lets the request through).
    /// </code>
    /// </summary>
    public static TBuilder AddRedisRateLimiter<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        if (!builder.Services.Any(s => s.ServiceType == typeof(RedisConnection)))
        {
            throw new InvalidOperationException("AddRedisRateLimiter needs AddRedisCache first: the limiter keeps its windows in Redis.");
        }

        builder.Services.TryAddSingleton<RedisRateLimiter>();
        return builder;
    }
}

/// <summary>The HTTP answers that go with a decision: RFC 9457 problem details with a Retry-After header.</summary>
public static class RateLimitResults
{
    /// <summary>429 Too Many Requests, Retry-After in seconds (RFC 6585 §4).</summary>
    public static IResult TooManyRequests(HttpContext http, RateLimitDecision decision)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(decision);
        http.Response.Headers.RetryAfter = decision.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
            detail: $"The rate limit for this caller is spent; retry after {decision.RetryAfterSeconds} s.");
    }

    /// <summary>503 for a caller that fails closed when the limiter cannot count.</summary>
    public static IResult Unavailable(HttpContext http, RateLimitDecision decision)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(decision);
        http.Response.Headers.RetryAfter = decision.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Rate limiter unavailable",
            detail: "The store behind rate limits and lockouts (Redis) is unreachable, so this endpoint refuses requests until it is back.");
    }
}
