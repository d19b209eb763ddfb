using ControlPlane.Policy.Data;

namespace ControlPlane.Policy.Bundles;

/// <summary>The active bundle, compiled, with its activation record.</summary>
public sealed record ActivePolicy(CompiledPolicy Policy, ActiveBundle Active);

/// <summary>
/// The active bundle compiled once per activation. Each call asks the database for the latest activation id (one
/// tiny query), so a bundle activated through another replica takes effect on the next decision here.
/// </summary>
public sealed class ActivePolicyCache(PolicyStore store) : IDisposable
{
    private readonly SemaphoreSlim _reload = new(1, 1);
    private volatile ActivePolicy? _current;

    /// <summary>The active policy, or null when no bundle was ever activated (decisions then deny).</summary>
    public async Task<ActivePolicy?> GetAsync(CancellationToken cancellationToken)
    {
        var latest = await store.LatestActivationIdAsync(cancellationToken);
        if (latest == 0)
        {
            return null;
        }

        if (_current is { } cached && cached.Active.ActivationId == latest)
        {
            return cached;
        }

        await _reload.WaitAsync(cancellationToken);
        try
        {
            if (_current is { } loaded && loaded.Active.ActivationId >= latest)
            {
                return loaded;
            }

            if (await store.GetActiveAsync(cancellationToken) is not { } active)
            {
                return null;
            }

            var parsed = BundleParser.Parse(active.Bundle.Yaml);
            if (!parsed.IsValid)
            {
                // Stored bundles were valid when stored; failing loudly beats deciding with half a bundle.
                throw new InvalidOperationException(
                    $"The active bundle {active.Bundle.Hash} no longer parses: {string.Join("; ", parsed.Errors)}");
            }

            var policy = new ActivePolicy(new CompiledPolicy(parsed.Bundle!, PolicyStore.VersionText(active.Bundle.Version)), active);
            _current = policy;
            return policy;
        }
        finally
        {
            _reload.Release();
        }
    }

    public void Dispose() => _reload.Dispose();
}
