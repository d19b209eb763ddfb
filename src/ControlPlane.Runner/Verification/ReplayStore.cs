using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Runner.FleetLink;

namespace ControlPlane.Runner.Verification;

/// <summary>
/// The <see cref="ReplayGuard"/> persisted in the state directory: a package is accepted only after its nonce and
/// fences are on disk, so a restart cannot make the runner accept the same package again.
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
            StateFiles.WriteAtomically(_path, JsonSerializer.Serialize(_guard.Snapshot(), ContractJson.Options));
            return null;
        }
    }
}
