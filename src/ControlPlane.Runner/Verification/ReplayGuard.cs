using ControlPlane.Contracts;

namespace ControlPlane.Runner.Verification;

/// <summary>What the runner remembers between packages: nonces until their package expires, the highest fence per target.</summary>
public sealed record ReplayState(IReadOnlyDictionary<string, DateTimeOffset> Nonces, IReadOnlyDictionary<string, long> Fences);

/// <summary>
/// Replay and staleness rules, pure: a nonce is accepted once; a fencing token older than the highest one seen for
/// its target is stale (an equal token is the same lease, accepted).
/// </summary>
public sealed class ReplayGuard
{
    private readonly Dictionary<string, DateTimeOffset> _nonces;
    private readonly Dictionary<string, long> _fences;

    public ReplayGuard(ReplayState? state = null)
    {
        _nonces = new Dictionary<string, DateTimeOffset>(state?.Nonces ?? new Dictionary<string, DateTimeOffset>(), StringComparer.Ordinal);
        _fences = new Dictionary<string, long>(state?.Fences ?? new Dictionary<string, long>(), StringComparer.Ordinal);
    }

    /// <summary>Why the package is a replay or stale, or null.</summary>
    public string? Check(WorkPackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (string.IsNullOrEmpty(package.Nonce))
        {
            return "package has no nonce";
        }

        if (_nonces.ContainsKey(package.Nonce))
        {
            return $"nonce {package.Nonce} was already used (replayed package)";
        }

        foreach (var (target, token) in (package.FencingTokens ?? new Dictionary<string, long>()).OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            if (_fences.TryGetValue(target, out var highest) && token < highest)
            {
                return $"stale fencing token for target {target}: {token} is older than {highest} already seen";
            }
        }

        return null;
    }

    /// <summary>Remembers the package's nonce until <paramref name="keepUntil"/> and raises the fences to its tokens.</summary>
    public void Record(WorkPackage package, DateTimeOffset keepUntil)
    {
        ArgumentNullException.ThrowIfNull(package);
        _nonces[package.Nonce] = keepUntil;
        foreach (var (target, token) in package.FencingTokens ?? new Dictionary<string, long>())
        {
            if (!_fences.TryGetValue(target, out var highest) || token > highest)
            {
                _fences[target] = token;
            }
        }
    }

    /// <summary>Forgets nonces whose packages expired (an expired package is refused anyway); fences are kept.</summary>
    public int Prune(DateTimeOffset now)
    {
        var expired = _nonces.Where(n => n.Value < now).Select(n => n.Key).ToList();
        foreach (var nonce in expired)
        {
            _nonces.Remove(nonce);
        }

        return expired.Count;
    }

    public ReplayState Snapshot() => new(new Dictionary<string, DateTimeOffset>(_nonces, StringComparer.Ordinal), new Dictionary<string, long>(_fences, StringComparer.Ordinal));
}
