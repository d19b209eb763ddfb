using ControlPlane.Contracts;
using ControlPlane.Runner.Verification;

namespace ControlPlane.Runner.Tests.Unit;

public static class Packages
{
    public static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    public static WorkPackage New(string nonce = "n-1", IReadOnlyDictionary<string, long>? fences = null, string audience = "runner-a") =>
        new(Guid.NewGuid(), Guid.NewGuid(), "sha256:00", WorkStep.Execute, "restart", "run-command", new Dictionary<string, string>(), ["billing"], "production",
            fences ?? new Dictionary<string, long>(), Now.AddSeconds(-5), Now.AddMinutes(5), nonce, audience, "remediation", "fleet");
}

public sealed class PackageRulesTests
{
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_current_package_for_this_runner_passes()
    {
        var package = Packages.New();

        Assert.Null(PackageRules.CheckClaims(package, package.WorkId, "runner-a", Packages.Now, Skew));
    }

    [Fact]
    public void Expiry_and_not_before_allow_the_skew_and_no_more()
    {
        var package = Packages.New();

        Assert.Null(PackageRules.CheckClaims(package, package.WorkId, "runner-a", package.ExpiresAt + TimeSpan.FromSeconds(29), Skew));
        Assert.StartsWith("package expired at", PackageRules.CheckClaims(package, package.WorkId, "runner-a", package.ExpiresAt + Skew, Skew), StringComparison.Ordinal);
        Assert.Null(PackageRules.CheckClaims(package, package.WorkId, "runner-a", package.NotBefore - TimeSpan.FromSeconds(29), Skew));
        Assert.StartsWith("package is not valid before", PackageRules.CheckClaims(package, package.WorkId, "runner-a", package.NotBefore - TimeSpan.FromSeconds(31), Skew), StringComparison.Ordinal);
    }

    [Fact]
    public void Another_audience_issuer_or_routed_work_id_is_refused()
    {
        var package = Packages.New(audience: "runner-b");

        Assert.Equal("package is addressed to runner 'runner-b', not to 'runner-a'", PackageRules.CheckClaims(package, package.WorkId, "runner-a", Packages.Now, Skew));
        Assert.Equal("package issuer is 'mallory', not 'fleet'", PackageRules.CheckClaims(package with { Issuer = "mallory" }, package.WorkId, "runner-b", Packages.Now, Skew));
        Assert.StartsWith("delivery names work", PackageRules.CheckClaims(package, Guid.NewGuid(), "runner-b", Packages.Now, Skew), StringComparison.Ordinal);
    }
}

public sealed class ReplayGuardTests
{
    [Fact]
    public void A_work_id_is_run_once_and_finished_work_is_forgotten_only_after_its_package_expired()
    {
        var guard = new ReplayGuard();
        var package = Packages.New("n-led");
        guard.Record(package, Packages.Now.AddMinutes(5));
        guard.Advance(package.WorkId, LedgerStage.Finished, Packages.Now);

        Assert.False(guard.IsInFlight(package));
        Assert.StartsWith($"work {package.WorkId} was already run on this runner", guard.Check(package with { Nonce = "n-other" }), StringComparison.Ordinal);
        guard.Prune(Packages.Now.AddMinutes(1));
        Assert.NotNull(guard.Check(package with { Nonce = "n-other" }));
        guard.Prune(Packages.Now.AddMinutes(6));
        Assert.Null(guard.Check(package with { Nonce = "n-other" })); // expired: refused by its expiry anyway
        Assert.False(guard.Advance(Guid.NewGuid(), LedgerStage.Started, Packages.Now));
    }

    [Fact]
    public void A_nonce_is_accepted_once()
    {
        var guard = new ReplayGuard();
        var package = Packages.New("nonce-1");

        Assert.Null(guard.Check(package));
        guard.Record(package, package.ExpiresAt);

        Assert.Equal("nonce nonce-1 was already used (replayed package)", guard.Check(Packages.New("nonce-1")));
        Assert.Null(guard.Check(Packages.New("nonce-2")));
    }

    [Fact]
    public void A_fencing_token_older_than_the_highest_seen_for_its_target_is_stale_and_equal_or_newer_is_not()
    {
        var guard = new ReplayGuard();
        guard.Record(Packages.New("a", new Dictionary<string, long> { ["billing"] = 5, ["ledger"] = 2 }), Packages.Now.AddMinutes(5));

        Assert.Equal("stale fencing token for target billing: 4 is older than 5 already seen", guard.Check(Packages.New("b", new Dictionary<string, long> { ["billing"] = 4 })));
        Assert.Null(guard.Check(Packages.New("c", new Dictionary<string, long> { ["billing"] = 5 })));
        Assert.Null(guard.Check(Packages.New("d", new Dictionary<string, long> { ["billing"] = 6, ["search"] = 1 })));
    }

    [Fact]
    public void Fences_only_rise()
    {
        var guard = new ReplayGuard();
        guard.Record(Packages.New("a", new Dictionary<string, long> { ["billing"] = 8 }), Packages.Now);
        guard.Record(Packages.New("b", new Dictionary<string, long> { ["billing"] = 3 }), Packages.Now);

        Assert.Equal(8, guard.Snapshot().Fences["billing"]);
    }

    [Fact]
    public void Expired_nonces_are_forgotten_and_the_state_round_trips()
    {
        var guard = new ReplayGuard();
        guard.Record(Packages.New("old"), Packages.Now.AddMinutes(-1));
        guard.Record(Packages.New("live", new Dictionary<string, long> { ["billing"] = 3 }), Packages.Now.AddMinutes(1));

        Assert.Equal(1, guard.Prune(Packages.Now));
        var restored = new ReplayGuard(guard.Snapshot());

        Assert.Null(restored.Check(Packages.New("old")));
        Assert.NotNull(restored.Check(Packages.New("live")));
        Assert.NotNull(restored.Check(Packages.New("x", new Dictionary<string, long> { ["billing"] = 2 })));
    }
}
