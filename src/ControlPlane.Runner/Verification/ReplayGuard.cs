using ControlPlane.Contracts;

namespace ControlPlane.Runner.Verification;

/// <summary>Where a package stands in the runner's execution ledger.</summary>
public enum LedgerStage
{
    Accepted,
    Started,
    Finished,
}

/// <summary>One ledger line: the package (nonce) this runner accepted for a work id, how far it got, until when it is kept.</summary>
public sealed record LedgerEntry(string Nonce, LedgerStage Stage, DateTimeOffset KeepUntil, DateTimeOffset? StartedAt = null);

/// <summary>
/// What the runner remembers between packages: nonces until their package expires, the highest fence per target,
/// and the execution ledger (work id → the package accepted for it and whether it started).
/// </summary>
public sealed record ReplayState(IReadOnlyDictionary<string, DateTimeOffset> Nonces, IReadOnlyDictionary<string, long> Fences,
    IReadOnlyDictionary<Guid, LedgerEntry>? Ledger = null);

/// <summary>
/// Replay, staleness and execute-once rules, pure: a nonce is accepted once; a fencing token older than the highest
/// one seen for its target is stale (an equal token is the same lease, accepted); a work id is run at most once,
/// whatever package carries it.
/// </summary>
public sealed class ReplayGuard
{
    private readonly Dictionary<string, DateTimeOffset> _nonces;
    private readonly Dictionary<string, long> _fences;
    private readonly Dictionary<Guid, LedgerEntry> _ledger;

    public ReplayGuard(ReplayState? state = null)
    {
        _nonces = new Dictionary<string, DateTimeOffset>(state?.Nonces ?? new Dictionary<string, DateTimeOffset>(), StringComparer.Ordinal);
        _fences = new Dictionary<string, long>(state?.Fences ?? new Dictionary<string, long>(), StringComparer.Ordinal);
        _ledger = new Dictionary<Guid, LedgerEntry>(state?.Ledger ?? new Dictionary<Guid, LedgerEntry>());
    }

    /// <summary>Whether this exact package was accepted here and has not finished: a duplicate delivery to drop, not to refuse.</summary>
    public bool IsInFlight(WorkPackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        return _ledger.TryGetValue(package.WorkId, out var entry) && entry.Stage != LedgerStage.Finished &&
            string.Equals(entry.Nonce, package.Nonce, StringComparison.Ordinal);
    }

    /// <summary>Why the package is a replay, a second run of a work id or stale, or null.</summary>
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

        if (_ledger.TryGetValue(package.WorkId, out var entry))
        {
            return $"work {package.WorkId} was already {Name(entry.Stage)} on this runner under another package (execution ledger)";
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

    /// <summary>Remembers the package's nonce and ledger line until <paramref name="keepUntil"/> and raises the fences to its tokens.</summary>
    public void Record(WorkPackage package, DateTimeOffset keepUntil)
    {
        ArgumentNullException.ThrowIfNull(package);
        _nonces[package.Nonce] = keepUntil;
        _ledger[package.WorkId] = new LedgerEntry(package.Nonce, LedgerStage.Accepted, keepUntil);
        foreach (var (target, token) in package.FencingTokens ?? new Dictionary<string, long>())
        {
            if (!_fences.TryGetValue(target, out var highest) || token > highest)
            {
                _fences[target] = token;
            }
        }
    }

    /// <summary>Moves an accepted work id forward in the ledger; false when it is not there (nothing to move).</summary>
    public bool Advance(Guid workId, LedgerStage stage, DateTimeOffset at)
    {
        if (!_ledger.TryGetValue(workId, out var entry))
        {
            return false;
        }

        _ledger[workId] = entry with { Stage = stage, StartedAt = stage == LedgerStage.Started ? at : entry.StartedAt };
        return true;
    }

    /// <summary>Forgets nonces and ledger lines whose packages expired (an expired package is refused anyway); fences are kept.</summary>
    public int Prune(DateTimeOffset now)
    {
        var expired = _nonces.Where(n => n.Value < now).Select(n => n.Key).ToList();
        foreach (var nonce in expired)
        {
            _nonces.Remove(nonce);
        }

        foreach (var workId in _ledger.Where(l => l.Value.KeepUntil < now && l.Value.Stage == LedgerStage.Finished).Select(l => l.Key).ToList())
        {
            _ledger.Remove(workId);
        }

        return expired.Count;
    }

    public ReplayState Snapshot() => new(new Dictionary<string, DateTimeOffset>(_nonces, StringComparer.Ordinal), new Dictionary<string, long>(_fences, StringComparer.Ordinal),
        new Dictionary<Guid, LedgerEntry>(_ledger));

    private static string Name(LedgerStage stage) => stage switch
    {
        LedgerStage.Accepted => "accepted",
        LedgerStage.Started => "started",
        _ => "run",
    };
}
