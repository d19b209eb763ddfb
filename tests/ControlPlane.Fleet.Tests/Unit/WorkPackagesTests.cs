using ControlPlane.Contracts;
using ControlPlane.Fleet.Tests.Support;
using ControlPlane.Fleet.Work;

namespace ControlPlane.Fleet.Tests.Unit;

public sealed class WorkPackagesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_package_copies_the_request_and_adds_audience_window_nonce_and_issuer()
    {
        var request = WorkRequests.New("remediation", "run-command", new Dictionary<string, string> { ["command"] = "restart-service" },
            TimeSpan.FromMinutes(2), new Dictionary<string, long> { ["billing"] = 12 }, step: WorkStep.Execute);

        var package = WorkPackages.Create(request, "runner-r1", Now, TimeSpan.FromSeconds(30), "nonce-1");

        Assert.Equal(request.WorkId, package.WorkId);
        Assert.Equal(request.ProposalId, package.ProposalId);
        Assert.Equal(request.ContentHash, package.ContentHash);
        Assert.Equal(WorkStep.Execute, package.Step);
        Assert.Equal(12, package.FencingTokens["billing"]);
        Assert.Equal(["billing"], package.Targets);
        Assert.Equal(Now, package.NotBefore);
        Assert.Equal(Now + TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(30), package.ExpiresAt);
        Assert.Equal("runner-r1", package.Audience);
        Assert.Equal("nonce-1", package.Nonce);
        Assert.Equal("fleet", package.Issuer);
        Assert.Equal("remediation", package.Fleet);
    }

    [Fact]
    public void Nonces_are_long_random_and_distinct()
    {
        var nonces = Enumerable.Range(0, 1000).Select(_ => WorkPackages.NewNonce()).ToList();

        Assert.Equal(1000, nonces.Distinct().Count());
        Assert.All(nonces, n => Assert.Equal(43, n.Length));
    }

    [Theory]
    [InlineData("", "run-command", 30, "fleet is missing")]
    [InlineData("testing", "Run Command", 30, "'Run Command' is not an action kind")]
    [InlineData("testing", "run-command", 0, "timeout 00:00:00 is not between 0 and 06:00:00")]
    [InlineData("testing", "run-command", 86400, "timeout 1.00:00:00 is not between 0 and 06:00:00")]
    public void Requests_that_cannot_become_packages_say_why(string fleet, string actionKind, int timeoutSeconds, string reason)
    {
        var request = WorkRequests.New(fleet, actionKind, timeout: TimeSpan.FromSeconds(timeoutSeconds));

        Assert.Equal(reason, WorkPackages.Validate(request, TimeSpan.FromHours(6)));
    }

    [Fact]
    public void A_well_formed_request_is_valid()
    {
        Assert.Null(WorkPackages.Validate(WorkRequests.New("testing", "http-check"), TimeSpan.FromHours(6)));
        Assert.Equal("no live runner in fleet observe can run http-check", WorkPackages.NoRunnerReason("observe", "http-check"));
    }
}

public sealed class RunnerSelectionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_least_busy_runner_is_picked()
    {
        var pick = RunnerSelection.Pick([new("a", 3, null), new("b", 1, T0), new("c", 2, null)]);

        Assert.Equal("b", pick!.RunnerId);
    }

    [Fact]
    public void Among_equally_busy_runners_the_one_idle_longest_is_picked_so_work_goes_round()
    {
        var pick = RunnerSelection.Pick([new("a", 1, T0.AddSeconds(5)), new("b", 1, T0), new("c", 1, T0.AddSeconds(9))]);

        Assert.Equal("b", pick!.RunnerId);
    }

    [Fact]
    public void A_runner_that_never_had_work_comes_first_and_ties_break_by_id()
    {
        Assert.Equal("z", RunnerSelection.Pick([new("a", 0, T0), new("z", 0, null)])!.RunnerId);
        Assert.Equal("a", RunnerSelection.Pick([new("b", 0, null), new("a", 0, null)])!.RunnerId);
        Assert.Null(RunnerSelection.Pick([]));
    }
}
