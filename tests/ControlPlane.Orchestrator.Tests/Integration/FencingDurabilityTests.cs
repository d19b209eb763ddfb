using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Tests.Infrastructure;

namespace ControlPlane.Orchestrator.Tests.Integration;

/// <summary>
/// Fencing tokens never go backwards, even when Redis comes back from an older snapshot: the durable floor in
/// PostgreSQL raises the counter before any lease is granted. Runs against a private redis-server it crashes.
/// </summary>
public sealed class FencingDurabilityTests(IdentityFixture identity) : IAsyncLifetime
{
    private PrivateRedis _redis = null!;
    private OrchestratorPlane _plane = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await PrivateRedis.StartAsync();
        _plane = await OrchestratorPlane.StartAsync(identity, "orch-fencing", s => s
            .Set("ConnectionStrings:cache", _redis.Address)
            .Set("Orchestrator:Scheduling:Interval", "00:00:00.200"));
    }

    [Fact]
    public async Task After_Redis_restarts_from_an_older_snapshot_tokens_still_grow_and_nothing_fails()
    {
        const string target = "search-api";
        var first = await RunAsync(target);
        await _redis.SnapshotAsync();
        var second = await RunAsync(target);
        var third = await RunAsync(target);

        await _redis.CrashAndRestartAsync();
        var counter = long.Parse(await _redis.GetAsync(_plane.RedisPrefix + "orchestrator:fence:" + target) ?? "0");
        var fourth = await RunAsync(target, TimeSpan.FromSeconds(60));

        Assert.Equal(first, counter); // Redis really lost the later tokens: a plain INCR would hand out second's token again
        Assert.True(first < second && second < third, $"tokens before the restart: {first}, {second}, {third}");
        Assert.True(fourth > third, $"the token after the restart ({fourth}) must be newer than every token handed out ({third})");
    }

    /// <summary>One dev proposal on the target, run to completion; its execution's fencing token.</summary>
    private async Task<long> RunAsync(string target, TimeSpan? timeout = null)
    {
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal($"fence-{Guid.NewGuid():N}", "dev", targets: [target]));
        await _plane.AssessAsync(id);
        await _plane.DecideAsync(id, OrchestratorPlane.Allow());
        var done = await _plane.WaitForStateAsync(id, ProposalState.Completed, timeout ?? TimeSpan.FromSeconds(30));
        Assert.Equal(ProposalState.Completed, done.State);
        return _plane.WorkFor(id).Single(w => w.Step == WorkStep.Execute).FencingTokens[target];
    }

    public async ValueTask DisposeAsync()
    {
        await _plane.DisposeAsync();
        await _redis.DisposeAsync();
    }
}
