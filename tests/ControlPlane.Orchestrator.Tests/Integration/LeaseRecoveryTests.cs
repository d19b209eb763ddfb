using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Tests.Infrastructure;
using ControlPlane.Testing;

namespace ControlPlane.Orchestrator.Tests.Integration;

public sealed class LeaseRecoveryPlane(IdentityFixture identity) : PlaneFixture(identity, "orch-leases")
{
    protected override void Configure(PlaneSettings settings) => settings
        .Set("Orchestrator:Leases:Ttl", "00:00:02")
        .Set("Orchestrator:Scheduling:Interval", "00:00:00.200")
        .Set("Orchestrator:Work:Timeout", "00:00:03")
        .Set("Orchestrator:Work:Grace", "00:00:01");
}

/// <summary>A holder that stops renewing loses its leases; the work is offered again or the proposal fails, never stuck.</summary>
public sealed class LeaseRecoveryTests(LeaseRecoveryPlane fixture) : IClassFixture<LeaseRecoveryPlane>
{
    private readonly OrchestratorPlane _plane = fixture.Plane;

    [Fact]
    public async Task A_dead_orchestrators_lease_expires_and_a_new_host_reoffers_the_work_under_a_newer_token()
    {
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal($"dead-{Guid.NewGuid():N}", "dev", targets: ["billing-worker"]));
        // The runner never answers the first offer (it died with the orchestrator); it answers the re-offer.
        _plane.Fleet.Behave(id, w => w.Step == WorkStep.Execute && _plane.WorkFor(id).Count(x => x.Step == WorkStep.Execute) == 1
            ? FleetAnswer.Silent
            : FleetAnswer.Succeed);
        await _plane.AssessAsync(id);
        await _plane.DecideAsync(id, OrchestratorPlane.Allow());
        await _plane.WaitForStateAsync(id, ProposalState.Executing);
        var first = await _plane.Bus.WaitForAsync<WorkRequested>(w => w.ProposalId == id && w.Step == WorkStep.Execute, "the first execution");
        var leaseKey = _plane.RedisPrefix + "orchestrator:lease:dev:billing-worker";
        Assert.Equal($"{id}|{first.FencingTokens["billing-worker"]}", await RedisProbe.GetAsync(leaseKey));

        await _plane.StopHostAsync();
        await Eventually.UntilAsync(async () => !await RedisProbe.ExistsAsync(leaseKey), TimeSpan.FromSeconds(10), "the unrenewed lease to expire");
        await _plane.StartHostAsync();

        var second = await _plane.Bus.WaitForAsync<WorkRequested>(w => w.ProposalId == id && w.Step == WorkStep.Execute && w.WorkId != first.WorkId,
            "the re-offered execution", TimeSpan.FromSeconds(30));
        var done = await _plane.WaitForStateAsync(id, ProposalState.Completed);

        Assert.True(second.FencingTokens["billing-worker"] > first.FencingTokens["billing-worker"],
            $"a re-acquired lease must carry a newer token ({first.FencingTokens["billing-worker"]} then {second.FencingTokens["billing-worker"]})");
        Assert.Equal([1, 2], done.Work.Where(w => w.Step == WorkStep.Execute).Select(w => w.Attempt));
        Assert.Equal(WorkStatus.Superseded, done.Work.First(w => w.WorkId == first.WorkId).Status);
        Assert.Contains(done.History, h => h.To == ProposalState.Completed);
    }

    [Fact]
    public async Task Work_that_never_reports_is_offered_once_more_and_then_fails_the_proposal()
    {
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal($"silent-{Guid.NewGuid():N}", "dev", targets: ["search"],
            rollbackPlan: null));
        _plane.Fleet.Behave(id, w => w.Step == WorkStep.Execute ? FleetAnswer.Silent : FleetAnswer.Succeed);
        await _plane.AssessAsync(id);
        await _plane.DecideAsync(id, OrchestratorPlane.Allow());

        var failed = await _plane.WaitForStateAsync(id, ProposalState.Failed, TimeSpan.FromSeconds(30));

        var offers = _plane.WorkFor(id).Where(w => w.Step == WorkStep.Execute).ToList();
        Assert.Equal(2, offers.Count);
        Assert.Equal(offers[0].FencingTokens, offers[1].FencingTokens); // the lease was still held: same tokens
        Assert.Contains("no attempts left", failed.History[^1].Reason, StringComparison.Ordinal);
        Assert.All(failed.Leases, l => Assert.NotNull(l.ReleasedAt));
        await Eventually.UntilAsync(async () => !await RedisProbe.ExistsAsync(_plane.RedisPrefix + "orchestrator:lease:dev:search"),
            TimeSpan.FromSeconds(10), "the lease freed in Redis");
    }
}

public sealed class RedisOutagePlane(IdentityFixture identity) : PlaneFixture(identity, "orch-outage")
{
    public TcpProxy Redis { get; } = StartProxy();

    private static TcpProxy StartProxy()
    {
        var proxy = new TcpProxy("127.0.0.1", 6379);
        proxy.Start();
        return proxy;
    }

    protected override void Configure(PlaneSettings settings) => settings
        .Set("ConnectionStrings:cache", $"127.0.0.1:{Redis.Port}")
        .Set("Orchestrator:Scheduling:Interval", "00:00:00.200")
        .Set("Orchestrator:Leases:Ttl", "00:00:03");
}

/// <summary>Redis down: proposals are still accepted and wait in "scheduled"; none executes; when Redis returns they proceed.</summary>
public sealed class RedisOutageTests(RedisOutagePlane fixture) : IClassFixture<RedisOutagePlane>, IAsyncDisposable
{
    [Fact]
    public async Task Nothing_starts_while_redis_is_unreachable_and_everything_proceeds_when_it_returns()
    {
        var plane = fixture.Plane;
        fixture.Redis.Stop();

        var ids = new List<Guid>();
        foreach (var target in new[] { "gateway", "checkout" })
        {
            ids.Add(await plane.SubmitAssessedAsync(OrchestratorPlane.Proposal($"outage-{Guid.NewGuid():N}", "dev", targets: [target]), OrchestratorPlane.Allow()));
        }

        foreach (var id in ids)
        {
            var waiting = await Eventually.UntilAsync(() => plane.GetAsync(id), p => p.WaitingReason is not null, TimeSpan.FromSeconds(20), "waiting for Redis");
            Assert.Equal(ProposalState.Scheduled, waiting.State);
            Assert.Contains("Redis is unreachable", waiting.WaitingReason, StringComparison.Ordinal);
        }

        await Task.Delay(2000);
        Assert.All(ids, id => Assert.DoesNotContain(plane.WorkFor(id), w => w.Step == WorkStep.Execute));
        foreach (var id in ids)
        {
            Assert.Equal(ProposalState.Scheduled, (await plane.GetAsync(id)).State);
        }

        fixture.Redis.Start();

        foreach (var id in ids)
        {
            await plane.WaitForStateAsync(id, ProposalState.Completed, TimeSpan.FromSeconds(60));
        }
    }

    public async ValueTask DisposeAsync() => await fixture.Redis.DisposeAsync();
}
