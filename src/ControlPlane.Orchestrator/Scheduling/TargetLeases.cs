using ControlPlane.ServiceDefaults.Caching;
using StackExchange.Redis;

namespace ControlPlane.Orchestrator.Scheduling;

/// <summary>The answer to a lease request: every target and a slot, or the reason for none (nothing is held then).</summary>
public abstract record LeaseResult
{
    public sealed record Acquired(IReadOnlyDictionary<string, long> FencingTokens) : LeaseResult;

    public sealed record TargetBusy(string Target) : LeaseResult;

    public sealed record EnvironmentFull(int Limit) : LeaseResult;
}

/// <summary>
/// Target leases and environment slots in Redis, each operation one Lua script so it is atomic:
/// <list type="bullet">
/// <item>lease key per (environment, target) holding "holder|token" with a TTL; the holder is the proposal, so a
/// new orchestrator replica can renew a lease a dead one took;</item>
/// <item>a fencing counter per target (INCR, never expires), raised first to the durable floor in PostgreSQL
/// (<see cref="FencingFloors"/>), so tokens only grow, across environments and across Redis losing data;</item>
/// <item>a sorted set of slot holders per environment scored by expiry, so a dead holder's slot lapses.</item>
/// </list>
/// All-or-nothing: a busy target or a full environment takes nothing. Acquiring again as the same holder is
/// idempotent and keeps the tokens of leases still held (a lost one gets a new, higher token).
/// Any Redis exception propagates: callers treat it as "no" (fail closed).
/// </summary>
public sealed class TargetLeases(RedisConnection redis, IFencingFloors floors)
{
    private static readonly TimeSpan RedisBudget = TimeSpan.FromSeconds(3);

    // KEYS[1] slot set; KEYS[2..n+1] leases; KEYS[n+2..2n+1] fencing counters. ARGV holder, ttl ms, slot limit, then
    // the durable floor per target. A counter below its floor (Redis restored from an older snapshot) is raised to it
    // first; a lease of this holder whose token is below the floor is not trusted (it came back from a snapshot) and
    // gets a new token.
    private const string AcquireScript = """
        local n = (#KEYS - 1) / 2
        local holder = ARGV[1]
        local ttl = tonumber(ARGV[2])
        local limit = tonumber(ARGV[3])
        local tokens = {}
        for i = 1, n do
          local floor = tonumber(ARGV[3 + i])
          local current = redis.call('GET', KEYS[1 + i])
          if current then
            local sep = string.find(current, '|', 1, true)
            if string.sub(current, 1, sep - 1) ~= holder then return {0, i} end
            local held = tonumber(string.sub(current, sep + 1))
            if held >= floor then tokens[i] = held end
          end
          local counter = tonumber(redis.call('GET', KEYS[1 + n + i]) or '0')
          if counter < floor then redis.call('SET', KEYS[1 + n + i], floor) end
        end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        if not redis.call('ZSCORE', KEYS[1], holder) and redis.call('ZCARD', KEYS[1]) >= limit then return {-1, limit} end
        redis.call('ZADD', KEYS[1], now + ttl, holder)
        local result = {1}
        for i = 1, n do
          local token = tokens[i]
          if not token then token = redis.call('INCR', KEYS[1 + n + i]) end
          redis.call('SET', KEYS[1 + i], holder .. '|' .. token, 'PX', ttl)
          result[i + 1] = token
        end
        return result
        """;

    // KEYS[1] slot set; KEYS[2..] leases. ARGV holder, ttl ms. Returns the indexes of leases no longer held.
    private const string RenewScript = """
        local prefix = ARGV[1] .. '|'
        local ttl = tonumber(ARGV[2])
        local lost = {}
        for i = 2, #KEYS do
          local current = redis.call('GET', KEYS[i])
          if current and string.sub(current, 1, #prefix) == prefix then
            redis.call('PEXPIRE', KEYS[i], ttl)
          else
            table.insert(lost, i - 1)
          end
        end
        local t = redis.call('TIME')
        redis.call('ZADD', KEYS[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + ttl, ARGV[1])
        return lost
        """;

    // KEYS[1] slot set; KEYS[2..] leases. ARGV holder. Deletes only what this holder holds.
    private const string ReleaseScript = """
        local prefix = ARGV[1] .. '|'
        for i = 2, #KEYS do
          local current = redis.call('GET', KEYS[i])
          if current and string.sub(current, 1, #prefix) == prefix then redis.call('DEL', KEYS[i]) end
        end
        redis.call('ZREM', KEYS[1], ARGV[1])
        return 1
        """;

    public static string LeaseKey(string environment, string target) => $"orchestrator:lease:{environment}:{target}";

    public static string FenceKey(string target) => $"orchestrator:fence:{target}";

    public static string SlotKey(string environment) => $"orchestrator:slots:{environment}";

    public async Task<LeaseResult> AcquireAsync(Guid holder, string environment, IReadOnlyList<string> targets, int slotLimit, TimeSpan ttl)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var keys = new RedisKey[1 + (2 * targets.Count)];
        keys[0] = SlotKey(environment);
        for (var i = 0; i < targets.Count; i++)
        {
            keys[1 + i] = LeaseKey(environment, targets[i]);
            keys[1 + targets.Count + i] = FenceKey(targets[i]);
        }

        var floor = await floors.ReadAsync(targets);
        RedisValue[] args = [holder.ToString(), (long)ttl.TotalMilliseconds, slotLimit, .. targets.Select(t => (RedisValue)floor.GetValueOrDefault(t))];
        var result = (RedisResult[])(await redis.GetDatabase()
            .ScriptEvaluateAsync(AcquireScript, keys, args)
            .WaitAsync(RedisBudget))!;
        var status = (long)result[0];
        if (status == 0)
        {
            return new LeaseResult.TargetBusy(targets[(int)(long)result[1] - 1]);
        }

        if (status < 0)
        {
            return new LeaseResult.EnvironmentFull(slotLimit);
        }

        var tokens = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < targets.Count; i++)
        {
            tokens[targets[i]] = (long)result[1 + i];
        }

        return new LeaseResult.Acquired(tokens);
    }

    /// <summary>Extends the holder's leases and slot; returns the targets whose lease is no longer the holder's.</summary>
    public async Task<IReadOnlyList<string>> RenewAsync(Guid holder, string environment, IReadOnlyList<string> targets, TimeSpan ttl)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var lost = (RedisResult[])(await redis.GetDatabase()
            .ScriptEvaluateAsync(RenewScript, Keys(environment, targets), [holder.ToString(), (long)ttl.TotalMilliseconds])
            .WaitAsync(RedisBudget))!;
        return lost.Select(i => targets[(int)(long)i - 1]).ToList();
    }

    public async Task ReleaseAsync(Guid holder, string environment, IReadOnlyList<string> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        await redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, Keys(environment, targets), [holder.ToString()]).WaitAsync(RedisBudget);
    }

    private static RedisKey[] Keys(string environment, IReadOnlyList<string> targets) =>
        [SlotKey(environment), .. targets.Select(t => (RedisKey)LeaseKey(environment, t))];
}
