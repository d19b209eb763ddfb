using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Lifecycle;
using ControlPlane.Orchestrator.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.Orchestrator.Tests.Integration;

/// <summary>
/// Two units of lifecycle work on one proposal take turns on its row in the real database: the second waits for the
/// first to commit and reads what it wrote, rather than failing its version check and starting over.
/// </summary>
public sealed class LifecycleTurnTests(LifecyclePlane fixture) : IClassFixture<LifecyclePlane>
{
    private readonly OrchestratorPlane _plane = fixture.Plane;

    [Fact]
    public async Task A_second_trigger_waits_for_the_first_to_commit_and_applies_on_its_result_without_a_retry()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal("turn-" + Guid.NewGuid().ToString("N")[..12], "production"));
        var submitted = await _plane.WaitForStateAsync(id, ProposalState.Submitted);
        var lifecycle = _plane.Host!.Services.GetRequiredService<ProposalLifecycle>();

        var firstLoaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = lifecycle.RunAsync(async scope =>
        {
            var proposal = await scope.LoadAsync(id);
            firstLoaded.SetResult();
            await releaseFirst.Task;
            await scope.ApplyAsync(proposal!, new Trigger(TriggerKind.ImpactAssessed, "graph v7: test"), "system-graph");
        }, ct);
        await firstLoaded.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);

        var attempts = 0;
        long? versionSeen = null;
        var second = lifecycle.RunAsync(async scope =>
        {
            attempts++;
            var proposal = await scope.LoadAsync(id);
            versionSeen = proposal!.Version;
            await scope.ApplyAsync(proposal, new Trigger(TriggerKind.Cancel, "changed my mind"), IdentityFixture.RemediationAgent);
        }, ct);

        // While the first holds the row, the second cannot have read it (it would have read the old version).
        await Task.Delay(500, ct);
        Assert.False(second.IsCompleted, "the second unit of work finished while the first still held the proposal");
        Assert.Null(versionSeen);

        releaseFirst.SetResult();
        await first;
        await second;

        Assert.Equal(1, attempts);
        Assert.Equal(submitted.Version + 1, versionSeen);
        var after = await _plane.GetAsync(id);
        Assert.Equal(ProposalState.Cancelled, after.State);
        Assert.Equal(submitted.Version + 2, after.Version);
    }

    [Fact]
    public async Task A_unit_of_work_on_a_stale_read_fails_at_its_commit_and_is_retried_on_fresh_state_without_leaving_anything_behind()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal("stale-" + Guid.NewGuid().ToString("N")[..12], "production"));
        var submitted = await _plane.WaitForStateAsync(id, ProposalState.Submitted);
        var lifecycle = _plane.Host!.Services.GetRequiredService<ProposalLifecycle>();

        var attempts = 0;
        await lifecycle.RunAsync(async scope =>
        {
            attempts++;
            // Read without the row lock, then let another unit of work move the proposal on before this one writes.
            var proposal = await ProposalStore.LoadAsync(scope.Work, id, ct);
            if (attempts == 1)
            {
                await lifecycle.RunAsync(async other =>
                {
                    var current = await other.LoadAsync(id);
                    await other.ApplyAsync(current!, new Trigger(TriggerKind.ImpactAssessed, "graph v7: test"), "system-graph");
                }, ct);
            }

            // The state update is held back with the history and the outbox: the conflict surfaces at the commit.
            await scope.ApplyAsync(proposal!, new Trigger(TriggerKind.Cancel, "changed my mind"), IdentityFixture.RemediationAgent);
        }, ct);

        Assert.Equal(2, attempts);
        var after = await _plane.GetAsync(id);
        Assert.Equal(ProposalState.Cancelled, after.State);
        Assert.Equal(submitted.Version + 2, after.Version);
        // The failed attempt's history row and messages rolled back with it: one cancel in the history, one per version.
        Assert.Single(after.History, h => h.Trigger == "cancel");
        Assert.Equal(after.History.Count, after.History.Select(h => h.Version).Distinct().Count());
    }
}
