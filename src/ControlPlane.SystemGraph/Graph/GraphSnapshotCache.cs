using System.Diagnostics.CodeAnalysis;
using ControlPlane.SystemGraph.Data;

namespace ControlPlane.SystemGraph.Graph;

/// <summary>
/// The current graph version as an immutable snapshot. Each call asks the database for the head version (one
/// tiny query) and rebuilds the snapshot only when it moved, so every assessment uses the current version even
/// with several replicas writing.
/// </summary>
public sealed class GraphSnapshotCache(GraphStore store) : IDisposable
{
    private readonly SemaphoreSlim _reload = new(1, 1);
    private volatile GraphSnapshot? _current;

    public async Task<GraphSnapshot> GetAsync(CancellationToken cancellationToken) =>
        await GetAsync(await store.HeadVersionAsync(cancellationToken), cancellationToken);

    /// <summary>The snapshot in memory when it is of at least <paramref name="head"/>, a head version the caller read itself.</summary>
    public bool TryGet(long head, [NotNullWhen(true)] out GraphSnapshot? snapshot)
    {
        snapshot = _current is { } cached && cached.Version >= head ? cached : null;
        return snapshot is not null;
    }

    /// <summary>The snapshot of at least <paramref name="head"/>, a head version the caller read itself (with other statements).</summary>
    public async Task<GraphSnapshot> GetAsync(long head, CancellationToken cancellationToken)
    {
        if (_current is { } cached && cached.Version >= head)
        {
            return cached;
        }

        await _reload.WaitAsync(cancellationToken);
        try
        {
            if (_current is { } loaded && loaded.Version >= head)
            {
                return loaded;
            }

            var (version, nodes, edges) = await store.ReadGraphAsync(cancellationToken);
            var snapshot = new GraphSnapshot(version, nodes.Select(n => n.ToNode()), edges.Select(e => e.ToEdge()));
            _current = snapshot;
            return snapshot;
        }
        finally
        {
            _reload.Release();
        }
    }

    public void Dispose() => _reload.Dispose();
}
