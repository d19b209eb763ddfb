using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Data;

namespace ControlPlane.Evidence.Autonomy;

/// <summary>
/// The chain status the audit page polls: recomputing the whole chain is linear in the log, so one result serves
/// every caller for up to 60 s (Evidence:ChainStatusCacheDuration); one recomputation at a time.
/// </summary>
public sealed class ChainStatusCache(EvidenceStore store, TimeProvider clock, IConfiguration configuration)
{
    private readonly TimeSpan _maxAge = configuration.GetValue("Evidence:ChainStatusCacheDuration", TimeSpan.FromSeconds(60));
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ChainStatus? _current;

    public async Task<ChainStatus> GetAsync(CancellationToken cancellationToken)
    {
        if (_current is { } fresh && clock.GetUtcNow() - fresh.CheckedAt < _maxAge)
        {
            return fresh;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_current is { } again && clock.GetUtcNow() - again.CheckedAt < _maxAge)
            {
                return again;
            }

            var result = await store.VerifyChainAsync(cancellationToken);
            _current = new ChainStatus(result.Ok, result.Records, result.BrokenAt, clock.GetUtcNow());
            return _current;
        }
        finally
        {
            _gate.Release();
        }
    }
}
