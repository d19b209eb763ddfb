using System.Security.Cryptography;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Messaging;

namespace ControlPlane.Runner.FleetLink;

/// <summary>
/// Fleet's package keys from GET /fleet/keys, cached. A package naming a key id the cache does not know causes one
/// refetch (fleet may have rotated); refetches are spaced so forged key ids cannot make the runner hammer fleet.
/// Keys that cannot be fetched are a transient fault (<see cref="TransientDependencyException"/>), never a refusal.
/// </summary>
public sealed class FleetKeyCache(FleetClient fleet, TimeProvider clock)
{
    private static readonly TimeSpan MinRefetchInterval = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<string, ECDsa> _keys = new(StringComparer.Ordinal);
    private DateTimeOffset _fetchedAt = DateTimeOffset.MinValue;

    /// <summary>The verified payload, or null with the reason.</summary>
    public async Task<(byte[]? Payload, string? Failure)> VerifyAsync(DsseEnvelope envelope, string payloadType, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (envelope.Payload is null || envelope.PayloadType is null || envelope.Signatures is null ||
            envelope.Signatures.Any(s => s?.KeyId is null || s.Sig is null))
        {
            return (null, "the envelope is incomplete (payloadType, payload and signatures with keyid and sig are required)");
        }

        var keys = _keys;
        if (envelope.Signatures.Any(s => !keys.ContainsKey(s.KeyId)))
        {
            try
            {
                keys = await RefreshAsync(ct);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !ct.IsCancellationRequested)
            {
                // Fleet restarting is no reason to refuse its package: the delivery is retried with backoff (the bus's
                // transient policy) and verified once the keys can be read; nothing was accepted yet.
                throw new TransientDependencyException($"fleet's signing keys could not be fetched to verify the package: {ex.Message}", ex);
            }
        }

        var payload = Dsse.Verify(envelope, payloadType, id => keys.GetValueOrDefault(id), out var failure);
        return (payload, failure);
    }

    private async Task<Dictionary<string, ECDsa>> RefreshAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (clock.GetUtcNow() - _fetchedAt < MinRefetchInterval)
            {
                return _keys;
            }

            var set = await fleet.GetKeysAsync(ct);
            var keys = new Dictionary<string, ECDsa>(StringComparer.Ordinal);
            foreach (var published in set.Keys)
            {
                if (SigningKeyIds.ImportPublicKey(published.PublicKey, out _) is { } key && SigningKeyIds.Thumbprint(key) == published.KeyId)
                {
                    keys[published.KeyId] = key;
                }
            }

            _keys = keys;
            _fetchedAt = clock.GetUtcNow();
            return keys;
        }
        finally
        {
            _gate.Release();
        }
    }
}
