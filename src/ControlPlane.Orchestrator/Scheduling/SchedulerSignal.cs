using System.Collections.Concurrent;

namespace ControlPlane.Orchestrator.Scheduling;

/// <summary>Wakes the scheduler as soon as something changed (a proposal queued, a lease released), instead of at the next tick.</summary>
public sealed class SchedulerSignal : IDisposable
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    public void Poke()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // already signalled
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _wake.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _wake.Dispose();
}

/// <summary>Why each scheduled proposal is still waiting, as this replica's scheduler last saw it (shown by GET /proposals/{id}).</summary>
public sealed class SchedulerStatus
{
    private readonly ConcurrentDictionary<Guid, string> _waiting = new();

    public void Waiting(Guid proposalId, string reason) => _waiting[proposalId] = reason;

    public void Started(Guid proposalId) => _waiting.TryRemove(proposalId, out _);

    public string? WaitingReason(Guid proposalId) => _waiting.TryGetValue(proposalId, out var reason) ? reason : null;

    /// <summary>Forgets proposals that are no longer queued.</summary>
    public void Retain(IReadOnlySet<Guid> queued)
    {
        foreach (var id in _waiting.Keys)
        {
            if (!queued.Contains(id))
            {
                _waiting.TryRemove(id, out _);
            }
        }
    }
}
