using System.Globalization;
using ControlPlane.ServiceDefaults.Caching;
using ControlPlane.ServiceDefaults.Security.RateLimiting;
using StackExchange.Redis;

namespace ControlPlane.Identity.Credentials;

/// <summary>Identity:Lockout:* — MaxFailures wrong secrets within Window lock the client's secrets for Duration.</summary>
public sealed record LockoutSettings(int MaxFailures, TimeSpan Window, TimeSpan Duration)
{
    public static LockoutSettings FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var settings = new LockoutSettings(
            int.TryParse(configuration["Identity:Lockout:MaxFailures"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var max) ? max : 5,
            TimeSpan.TryParse(configuration["Identity:Lockout:Window"], CultureInfo.InvariantCulture, out var window) ? window : TimeSpan.FromMinutes(15),
            TimeSpan.TryParse(configuration["Identity:Lockout:Duration"], CultureInfo.InvariantCulture, out var duration) ? duration : TimeSpan.FromMinutes(15));
        return settings.MaxFailures < 1 || settings.Window <= TimeSpan.Zero || settings.Duration <= TimeSpan.Zero
            ? throw new InvalidOperationException("Identity:Lockout needs MaxFailures >= 1 and positive Window and Duration.")
            : settings;
    }
}

public enum LockState
{
    Open,
    Locked,

    /// <summary>Redis could not be asked: the token endpoint refuses (fail closed).</summary>
    Unavailable,
}

/// <summary>After a failure: how many in the window, and whether this one locked the credential (for how long).</summary>
public sealed record FailureCount(LockState State, int Failures, bool LockedNow, TimeSpan LockedFor);

/// <summary>
/// Brute-force protection for client secrets, shared by every replica through Redis: failures are counted per
/// client id in a window; reaching the limit sets a lock that refuses even the right secret until it ends.
/// </summary>
public sealed class CredentialLockout(RedisConnection redis, LockoutSettings settings)
{
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(2);

    // KEYS failures counter, lock; ARGV max failures, window ms, lock ms. Returns {failures, lock ttl ms, locked now}.
    private const string FailureScript = """
        local failures = redis.call('INCR', KEYS[1])
        if failures == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        if failures >= tonumber(ARGV[1]) then
          local fresh = redis.call('SET', KEYS[2], failures, 'PX', ARGV[3], 'NX')
          redis.call('DEL', KEYS[1])
          if fresh then return {failures, tonumber(ARGV[3]), 1} end
          return {failures, redis.call('PTTL', KEYS[2]), 0}
        end
        return {failures, 0, 0}
        """;

    public LockoutSettings Settings => settings;

    public async Task<(LockState State, TimeSpan Remaining)> CheckAsync(string clientId, CancellationToken cancellationToken)
    {
        try
        {
            var ttl = await redis.GetDatabase().KeyTimeToLiveAsync(LockKey(clientId)).WaitAsync(OperationTimeout, cancellationToken);
            return ttl is { } remaining && remaining > TimeSpan.Zero ? (LockState.Locked, remaining) : (LockState.Open, TimeSpan.Zero);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return (LockState.Unavailable, TimeSpan.Zero);
        }
    }

    public async Task<FailureCount> RecordFailureAsync(string clientId, CancellationToken cancellationToken)
    {
        try
        {
            var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(FailureScript, [FailuresKey(clientId), LockKey(clientId)],
                [settings.MaxFailures, (long)settings.Window.TotalMilliseconds, (long)settings.Duration.TotalMilliseconds])
                .WaitAsync(OperationTimeout, cancellationToken))!;
            var lockMs = (long)result[1];
            return new FailureCount(lockMs > 0 ? LockState.Locked : LockState.Open, (int)result[0], (int)result[2] == 1, TimeSpan.FromMilliseconds(lockMs));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return new FailureCount(LockState.Unavailable, 0, false, TimeSpan.Zero);
        }
    }

    /// <summary>A success forgets earlier failures. Best effort: a leftover count only expires later.</summary>
    public async Task ResetAsync(string clientId, CancellationToken cancellationToken)
    {
        try
        {
            await redis.GetDatabase().KeyDeleteAsync(FailuresKey(clientId)).WaitAsync(OperationTimeout, cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // the failure counter expires with its window anyway
        }
    }

    private static string FailuresKey(string clientId) => $"lockout:failures:{RedisRateLimiter.KeyPart(clientId)}";

    private static string LockKey(string clientId) => $"lockout:locked:{RedisRateLimiter.KeyPart(clientId)}";
}

/// <summary>
/// Remembers the jti of every accepted client assertion until it expires (RFC 7523 §3: a jti is used once).
/// Answers null when Redis cannot be asked, and the caller refuses (fail closed).
/// </summary>
public sealed class AssertionReplayCache(RedisConnection redis)
{
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(2);

    /// <summary>True the first time (jti recorded for <paramref name="keepFor"/>), false for a replay, null when unavailable.</summary>
    public async Task<bool?> TryUseOnceAsync(string clientId, string jti, TimeSpan keepFor, CancellationToken cancellationToken)
    {
        var key = $"assertion-jti:{RedisRateLimiter.KeyPart(clientId)}:{RedisRateLimiter.KeyPart(jti)}";
        try
        {
            return await redis.GetDatabase().StringSetAsync(key, "1", keepFor, When.NotExists).WaitAsync(OperationTimeout, cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return null;
        }
    }
}
