using ControlPlane.Contracts;
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
}
