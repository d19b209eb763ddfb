using ControlPlane.Contracts;
using ControlPlane.Runner.FleetLink;
using ControlPlane.Runner.Tests.Unit;
using ControlPlane.Runner.Verification;

namespace ControlPlane.Runner.Tests.Integration;

/// <summary>What the runner keeps in its state directory survives a restart (a new instance over the same folder).</summary>
public sealed class RunnerStateTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), $"cpt-runner-state-{Guid.NewGuid():N}");

    private RunnerOptions Options => new() { Id = "runner-a", StateDirectory = _state };

    [Fact]
    public void Seen_nonces_and_fences_survive_a_restart()
    {
        var package = Packages.New("nonce-r", new Dictionary<string, long> { ["billing"] = 6 });
        var before = new ReplayStore(Options);
        Assert.Null(before.TryAccept(package, Packages.Now, TimeSpan.FromSeconds(30)));

        var after = new ReplayStore(Options);

        Assert.Equal("nonce nonce-r was already used (replayed package)", after.TryAccept(package, Packages.Now, TimeSpan.FromSeconds(30)));
        Assert.Equal("stale fencing token for target billing: 5 is older than 6 already seen",
            after.TryAccept(Packages.New("nonce-s", new Dictionary<string, long> { ["billing"] = 5 }), Packages.Now, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void The_execution_ledger_survives_a_restart_so_a_work_id_never_runs_twice_whatever_package_carries_it()
    {
        var package = Packages.New("nonce-l");
        var before = new ReplayStore(Options);
        Assert.Null(before.TryAccept(package, Packages.Now, TimeSpan.FromSeconds(30)));
        before.Advance(package.WorkId, LedgerStage.Started, Packages.Now);

        var after = new ReplayStore(Options); // the runner crashed while the action ran
        var reissued = package with { Nonce = "nonce-m" }; // the same work, signed again with a new nonce

        Assert.Equal(LedgerStage.Started, after.Ledger()[package.WorkId].Stage);
        Assert.True(after.IsInFlight(package)); // a redelivery of the same package: a duplicate, dropped without a refusal
        Assert.False(after.IsInFlight(reissued));
        Assert.Equal($"work {package.WorkId} was already started on this runner under another package (execution ledger)",
            after.TryAccept(reissued, Packages.Now, TimeSpan.FromSeconds(30)));
        Assert.Equal($"work {package.WorkId} was already started on this runner under another package (execution ledger)", after.Check(reissued));
    }

    [Fact]
    public void A_package_is_only_checked_until_it_is_accepted_so_a_refused_handshake_spends_nothing()
    {
        var package = Packages.New("nonce-c");
        var store = new ReplayStore(Options);

        Assert.Null(store.Check(package));
        Assert.Null(store.Check(package)); // checking records nothing
        Assert.Null(store.TryAccept(package, Packages.Now, TimeSpan.FromSeconds(30)));
        Assert.Equal("nonce nonce-c was already used (replayed package)", store.Check(package));
    }

    [Fact]
    public void The_runner_key_is_created_once_private_to_the_runner_and_reused()
    {
        using var first = RunnerKey.LoadOrCreate(_state);
        using var second = RunnerKey.LoadOrCreate(_state);
        var file = Path.Combine(_state, RunnerKey.FileName);

        Assert.Equal(first.KeyId, second.KeyId);
        Assert.Equal(SigningKeyIds.Thumbprint(first.Key), first.KeyId);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var envelope = second.Sign(new WorkResult(Guid.NewGuid(), Guid.NewGuid(), WorkStep.Verify, "runner-a", WorkOutcome.Succeeded, 0, TimeSpan.Zero, "sha256:00", null, null, DateTimeOffset.UnixEpoch));
        Assert.NotNull(Dsse.Verify(envelope, WorkResult.PayloadType, id => id == first.KeyId ? first.Key : null, out _));
    }

    public void Dispose()
    {
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }
}
