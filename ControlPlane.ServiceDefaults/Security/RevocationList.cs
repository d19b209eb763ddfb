using System.Collections.Concurrent;

namespace ControlPlane.ServiceDefaults.Security;

/// <summary>
/// Principals revoked recently, fed by identity's PrincipalRevoked events: a token issued before the revocation
/// is refused even though its signature and lifetime are fine. Entries older than any token lifetime could be
/// are dropped, so the list stays small.
/// </summary>
public sealed class RevocationList(TimeProvider clock) : IPrincipalRevocations
{
    private static readonly TimeSpan Horizon = TimeSpan.FromHours(24);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _revokedAt = new(StringComparer.Ordinal);

    public RevocationList() : this(TimeProvider.System)
    {
    }

    public void Revoke(string subject, DateTimeOffset at)
    {
        _revokedAt.AddOrUpdate(subject, at, (_, existing) => at > existing ? at : existing);
        var cutoff = clock.GetUtcNow() - Horizon;
        foreach (var (key, value) in _revokedAt)
        {
            if (value < cutoff)
            {
                _revokedAt.TryRemove(key, out _);
            }
        }
    }

    public ValueTask<bool> IsRevokedAsync(string subject, DateTimeOffset issuedAt, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_revokedAt.TryGetValue(subject, out var at) && issuedAt <= at);
}
