using System.Security.Cryptography;
using System.Text;
using ControlPlane.ServiceDefaults.Caching;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ControlPlane.ServiceDefaults.Security.RateLimiting;

/// <summary>
/// A sliding-window rate limiter shared by every replica through Redis: one sorted set per rule and partition
/// holds the timestamps of the requests inside the window, and a Lua script trims, counts and adds atomically
/// with Redis' own clock (replicas' clocks never disagree about a window). A Redis failure is reported as
/// <see cref="RateLimitOutcome.Unavailable"/>, never thrown, so each caller states its own fail-open or
/// fail-closed choice.
/// </summary>
public sealed partial class RedisRateLimiter(RedisConnection redis, ILogger<RedisRateLimiter> logger)
{
    private const int MaxReadablePartition = 128;
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(2);

    // KEYS[1] the window's sorted set; ARGV limit, window (ms), a unique member for this request.
    // Returns {allowed (1|0), remaining, retry-after ms}.
    private const string SlidingWindowScript = """
        local limit = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
        local count = redis.call('ZCARD', KEYS[1])
        if count < limit then
          redis.call('ZADD', KEYS[1], now, ARGV[3])
          redis.call('PEXPIRE', KEYS[1], window)
          return {1, limit - count - 1, 0}
        end
        local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        local retry = window
        if oldest[2] then retry = tonumber(oldest[2]) + window - now end
        if retry < 1 then retry = 1 end
        return {0, 0, retry}
        """;

    /// <summary>Counts one request of <paramref name="partition"/> against <paramref name="rule"/>.</summary>
    public async Task<RateLimitDecision> AcquireAsync(RateLimitRule rule, string partition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentException.ThrowIfNullOrEmpty(partition);
        try
        {
            var result = await redis.GetDatabase()
                .ScriptEvaluateAsync(SlidingWindowScript, [Key(rule, partition)],
                    [rule.Limit, (long)rule.Window.TotalMilliseconds, Guid.NewGuid().ToString("N")])
                .WaitAsync(OperationTimeout, cancellationToken);
            var values = (RedisResult[])result!;
            return (int)values[0] == 1
                ? new RateLimitDecision(RateLimitOutcome.Allowed, (int)values[1], TimeSpan.Zero)
                : new RateLimitDecision(RateLimitOutcome.Limited, 0, TimeSpan.FromMilliseconds((long)values[2]));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidCastException)
        {
            LogUnavailable(logger, rule.Name, ex.GetType().Name);
            return RateLimitDecision.StoreUnavailable;
        }
    }

    /// <summary>The Redis key of a partition of a rule.</summary>
    public static string Key(RateLimitRule rule, string partition)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return $"ratelimit:{rule.Name}:{KeyPart(partition)}";
    }

    /// <summary>
    /// A caller-supplied value (client id, address, principal) made safe as part of a Redis key: anything long is
    /// hashed; short values stay readable for an operator looking at Redis.
    /// </summary>
    public static string KeyPart(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Length <= MaxReadablePartition
            ? value
            : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate limiter for rule {Rule} could not reach Redis ({Error})")]
    private static partial void LogUnavailable(ILogger logger, string rule, string error);
}
