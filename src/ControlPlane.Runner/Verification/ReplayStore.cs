using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Runner.FleetLink;

namespace ControlPlane.Runner.Verification;

/// <summary>
/// The <see cref="ReplayGuard"/> persisted in the state directory: a package is accepted only after its nonce, fences
/// and ledger line are on disk, and marked started before its action runs, so a restart can make the runner neither
/// accept the same package again nor run a work id twice.
/// </summary>
public sealed class ReplayStore
{
    public const string FileName = "replay-state.json";
    private readonly Lock _gate = new();
    private readonly string _path;
    private readonly ReplayGuard _guard;

    public ReplayStore(RunnerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        StateFiles.EnsureDirectory(options.StateDirectory!);
        _path = Path.Combine(options.StateDirectory!, FileName);
        _guard = new ReplayGuard(File.Exists(_path)
            ? JsonSerializer.Deserialize<ReplayState>(File.ReadAllText(_path), ContractJson.Options)
            : null);
    }

    /// <summary>Why the package may not be accepted, without recording anything (the accept handshake with fleet comes first).</summary>
    public string? Check(WorkPackage package)
    {
        lock (_gate)
        {
            return _guard.Check(package);
        }
    }

    /// <summary>This exact package is accepted here and not finished: a second delivery of it is a duplicate, not a replay.</summary>
    public bool IsInFlight(WorkPackage package)
    {
        lock (_gate)
        {
            return _guard.IsInFlight(package);
        }
    }

    /// <summary>Accepts the package (recording it durably) or says why not.</summary>
    public string? TryAccept(WorkPackage package, DateTimeOffset now, TimeSpan skew)
    {
        ArgumentNullException.ThrowIfNull(package);
        lock (_gate)
        {
            if (_guard.Check(package) is { } refusal)
            {
                return refusal;
            }

            _guard.Prune(now);
            _guard.Record(package, package.ExpiresAt + skew);
            Save();
            return null;
        }
    }

    /// <summary>Durably moves the work id forward in the ledger (started before the action runs, finished after).</summary>
    public void Advance(Guid workId, LedgerStage stage, DateTimeOffset at)
    {
        lock (_gate)
        {
            if (_guard.Advance(workId, stage, at))
            {
                Save();
            }
        }
    }

    /// <summary>The ledger as it is now: how tests and operators count executions on the runner itself.</summary>
    public IReadOnlyDictionary<Guid, LedgerEntry> Ledger()
    {
        lock (_gate)
        {
            return _guard.Snapshot().Ledger!;
        }
    }

    private void Save() => StateFiles.WriteAtomically(_path, JsonSerializer.Serialize(_guard.Snapshot(), ContractJson.Options));
}
