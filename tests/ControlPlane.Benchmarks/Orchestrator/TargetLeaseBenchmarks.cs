using BenchmarkDotNet.Attributes;
using ControlPlane.Orchestrator.Scheduling;
using ControlPlane.ServiceDefaults.Caching;
using StackExchange.Redis;

namespace ControlPlane.Benchmarks.Orchestrator;

/// <summary>
/// The lease scripts against the real Redis (CP_BENCH_REDIS, default 127.0.0.1:6379; start it with eng/servers.sh up):
/// take and give back the leases of one or three targets plus an environment slot, as the scheduler does per
/// proposal. Keys live under a prefix of their own and are deleted afterwards.
/// </summary>
[MemoryDiagnoser]
public class TargetLeaseBenchmarks
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly string _prefix = $"cpbench:{Guid.NewGuid():N}:";
    private readonly Guid _holder = Guid.NewGuid();
    private RedisConnection _redis = null!;
    private TargetLeases _leases = null!;

    [Params(1, 3)]
    public int Targets { get; set; }

    private const int Parallel = 64;
    private string[] _targets = [];
    private (Guid Holder, string[] Targets)[] _parallel = [];

    [GlobalSetup]
    public void Setup()
    {
        var address = Environment.GetEnvironmentVariable("CP_BENCH_REDIS") is { Length: > 0 } a ? a : "127.0.0.1:6379";
        _redis = new RedisConnection(address, _prefix);
        _leases = new TargetLeases(_redis, new ZeroFloors());
        _targets = Enumerable.Range(0, Targets).Select(i => $"node-{i}").ToArray();
        _parallel = Enumerable.Range(0, Parallel)
            .Select(p => (Guid.NewGuid(), Enumerable.Range(0, Targets).Select(i => $"parallel-{p}-{i}").ToArray()))
            .ToArray();
        _redis.PingAsync().GetAwaiter().GetResult();
    }

    [Benchmark(Description = "acquire + release (all-or-nothing, with slot)")]
    public async Task<bool> AcquireAndRelease()
    {
        var result = await _leases.AcquireAsync(_holder, "bench", _targets, 2, Ttl);
        await _leases.ReleaseAsync(_holder, "bench", _targets);
        return result is LeaseResult.Acquired;
    }

    /// <summary>Throughput with the multiplexer pipelining: 64 holders at once on targets of their own (per-lease cost).</summary>
    [Benchmark(OperationsPerInvoke = Parallel, Description = "64 concurrent acquire + release (per lease)")]
    public async Task<int> ConcurrentAcquireAndRelease()
    {
        var results = await Task.WhenAll(_parallel.Select(async p =>
        {
            var result = await _leases.AcquireAsync(p.Holder, "bench-parallel", p.Targets, Parallel, Ttl);
            await _leases.ReleaseAsync(p.Holder, "bench-parallel", p.Targets);
            return result is LeaseResult.Acquired;
        }));
        return results.Count(r => r);
    }

    [Benchmark(Description = "renew")]
    public async Task<int> Renew() => (await _leases.RenewAsync(_holder, "bench", _targets, Ttl)).Count;

    [GlobalCleanup]
    public void Cleanup()
    {
        var db = _redis.GetDatabase();
        var keys = _targets.SelectMany(t => new RedisKey[] { TargetLeases.LeaseKey("bench", t), TargetLeases.FenceKey(t) })
            .Concat(_parallel.SelectMany(p => p.Targets).SelectMany(t => new RedisKey[] { TargetLeases.LeaseKey("bench-parallel", t), TargetLeases.FenceKey(t) }))
            .Append(TargetLeases.SlotKey("bench")).Append(TargetLeases.SlotKey("bench-parallel")).ToArray();
        db.KeyDelete(keys);
        _redis.Dispose();
    }
}

/// <summary>The Redis scripts alone: no durable floor read (orchestrator reads it from PostgreSQL per acquisition).</summary>
internal sealed class ZeroFloors : IFencingFloors
{
    public Task<IReadOnlyDictionary<string, long>> ReadAsync(IReadOnlyList<string> targets) =>
        Task.FromResult<IReadOnlyDictionary<string, long>>(new Dictionary<string, long>());
}
