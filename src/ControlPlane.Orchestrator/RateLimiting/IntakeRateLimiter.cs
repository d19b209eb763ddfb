using ControlPlane.ServiceDefaults.Caching;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ControlPlane.Orchestrator.RateLimiting;

/// <summary>The verdict of the limiter: allowed, or not before <see cref="RetryAfter"/>.</summary>
public readonly record struct RateDecision(bool Allowed, TimeSpan RetryAfter);

/// <summary>
/// Proposal intake per principal: a fixed one-minute window counted in Redis (INCR + expiry in one script).
/// Unlike leases this fails open: a Redis outage must never cost an agent its proposal, so an unreachable Redis
/// admits the submission and logs why.
/// </summary>
public sealed partial class IntakeRateLimiter(RedisConnection redis, IOptions<OrchestratorOptions> options, TimeProvider clock,
    ILogger<IntakeRateLimiter> logger)
{
    private const string Script = """
        local count = redis.call('INCR', KEYS[1])
        if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return count
        """;

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan RedisBudget = TimeSpan.FromSeconds(1);

    public async Task<RateDecision> CheckAsync(string principal, CancellationToken cancellationToken)
    {
        var limit = options.Value.RateLimit.PerMinute;
        if (limit <= 0)
        {
            return new RateDecision(true, TimeSpan.Zero);
        }

        var now = clock.GetUtcNow();
        var window = now.ToUnixTimeSeconds() / (long)Window.TotalSeconds;
        var retryAfter = TimeSpan.FromSeconds((window + 1) * (long)Window.TotalSeconds - now.ToUnixTimeSeconds());
        try
        {
            var count = (long)await redis.GetDatabase()
                .ScriptEvaluateAsync(Script, [$"orchestrator:ratelimit:intake:{principal}:{window}"], [(long)(Window + TimeSpan.FromSeconds(10)).TotalMilliseconds])
                .WaitAsync(RedisBudget, cancellationToken);
            return count <= limit ? new RateDecision(true, TimeSpan.Zero) : new RateDecision(false, retryAfter);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogLimiterUnavailable(logger, ex.GetType().Name);
            return new RateDecision(true, TimeSpan.Zero);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Intake rate limiter unavailable ({Error}); admitting the proposal so none is lost")]
    private static partial void LogLimiterUnavailable(ILogger logger, string error);
}
