using System.Diagnostics;
using System.Security.Cryptography;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Tests.Infrastructure;
using ControlPlane.Testing;

namespace ControlPlane.Orchestrator.Tests.Integration;

public sealed class AcknowledgementPlane(IdentityFixture identity) : PlaneFixture(identity, "orch-acks")
{
    protected override void Configure(PlaneSettings settings) => settings
        .Set("Orchestrator:Scheduling:Interval", "00:00:00.200")
        .Set("Orchestrator:Work:Timeout", "00:01:00")
        .Set("Orchestrator:Work:AcceptTimeout", "00:00:02");
}

/// <summary>
/// Lost work is noticed in seconds: unaccepted work is offered again after the accept timeout, work of a runner that
/// went silent at once; a rollback only follows an execution a runner signed as started; late results are superseded.
/// </summary>
public sealed class AcknowledgementTests(AcknowledgementPlane fixture) : IClassFixture<AcknowledgementPlane>
{
    private readonly OrchestratorPlane _plane = fixture.Plane;

    [Fact]
    public async Task An_execution_refused_before_it_started_fails_the_proposal_without_dispatching_a_rollback()
    {
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "dev", targets: ["cart"]));
        _plane.Fleet.Behave(id, w => w.Step == WorkStep.Execute ? new FleetAnswer(null, TimeSpan.Zero, Refuse: true) : FleetAnswer.Succeed);
        await _plane.AssessAsync(id);
        await _plane.DecideAsync(id, OrchestratorPlane.Allow());

        var failed = await _plane.WaitForStateAsync(id, ProposalState.Failed);
        await Eventually.UntilAsync(() => _plane.GetAsync(id), p => p.Leases.All(l => l.ReleasedAt is not null), TimeSpan.FromSeconds(10), "the leases freed");

        Assert.Contains("refused by the runner", failed.History[^1].Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(_plane.WorkFor(id), w => w.Step == WorkStep.Rollback); // a plan, but nothing ran: nothing to undo
    }

    [Fact]
    public async Task An_execution_a_runner_started_and_then_failed_is_rolled_back()
    {
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "dev", targets: ["cart-worker"]));
        _plane.Fleet.Behave(id, w => w.Step == WorkStep.Execute ? FleetAnswer.Fail : FleetAnswer.Succeed);
        await _plane.AssessAsync(id);
        await _plane.DecideAsync(id, OrchestratorPlane.Allow());

        await _plane.WaitForStateAsync(id, ProposalState.Failed);
        await _plane.Bus.WaitForAsync<WorkRequested>(w => w.ProposalId == id && w.Step == WorkStep.Rollback, "the rollback of a started execution");
    }

    [Fact]
    public async Task Work_no_runner_accepts_is_asked_for_again_after_the_accept_timeout_under_the_same_work_id_and_fencing_token()
    {
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "dev", targets: ["catalog"]));
        _plane.Fleet.Behave(id, w => w.Step == WorkStep.Execute && _plane.WorkFor(id).Count(x => x.Step == WorkStep.Execute) == 1
            ? FleetAnswer.Silent
            : FleetAnswer.Succeed);
        await _plane.AssessAsync(id);
        await _plane.DecideAsync(id, OrchestratorPlane.Allow());
        var first = await _plane.Bus.WaitForAsync<WorkRequested>(w => w.ProposalId == id && w.Step == WorkStep.Execute, "the first execution");
        var clock = Stopwatch.StartNew();

        // Never a second work id for the same change: a runner may have accepted the first while its acceptance is on its way.
        var again = await _plane.Bus.WaitForAsync<WorkRequested>(w => w.ProposalId == id && w.Step == WorkStep.Execute && w.RequestedAt > first.RequestedAt,
            "the same work asked for again after the accept timeout", TimeSpan.FromSeconds(20));
        var waited = clock.Elapsed;
        var done = await _plane.WaitForStateAsync(id, ProposalState.Completed);

        Assert.InRange(waited, TimeSpan.Zero, TimeSpan.FromSeconds(8)); // accept timeout 2 s; the work timeout is 60 s
        Assert.Equal(first.WorkId, again.WorkId);
        Assert.Equal(first.FencingTokens, again.FencingTokens);
        var execute = Assert.Single(done.Work, w => w.Step == WorkStep.Execute);
        Assert.True(execute.Attempt >= 2, $"the offer was counted (attempt {execute.Attempt})");
        Assert.Equal(WorkStatus.Succeeded, execute.Status);
        Assert.DoesNotContain(_plane.Bus.Seen<WorkWithdrawn>(), w => w.ProposalId == id);
    }

    [Fact]
    public async Task Work_of_a_runner_that_went_silent_is_offered_again_at_once_not_after_the_work_timeout()
    {
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key(), "dev", targets: ["recommendations"]));
        _plane.Fleet.Behave(id, w => w.Step == WorkStep.Execute && _plane.WorkFor(id).Count(x => x.Step == WorkStep.Execute) == 1
            ? new FleetAnswer(WorkOutcome.TimedOut, TimeSpan.FromMilliseconds(200)) // fleet: "runner went silent while holding the package"
            : FleetAnswer.Succeed);
        await _plane.AssessAsync(id);
        await _plane.DecideAsync(id, OrchestratorPlane.Allow());
        var first = await _plane.Bus.WaitForAsync<WorkRequested>(w => w.ProposalId == id && w.Step == WorkStep.Execute, "the first execution");
        var clock = Stopwatch.StartNew();

        var done = await _plane.WaitForStateAsync(id, ProposalState.Completed, TimeSpan.FromSeconds(20));

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.Equal([1, 2], done.Work.Where(w => w.Step == WorkStep.Execute).Select(w => w.Attempt));
        Assert.Equal(first.FencingTokens, _plane.WorkFor(id).Last(w => w.Step == WorkStep.Execute).FencingTokens);
        Assert.DoesNotContain(_plane.WorkFor(id), w => w.Step == WorkStep.Rollback);
    }

    private static DsseEnvelope SignedResult(WorkRequested work)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var result = new WorkResult(work.WorkId, work.ProposalId, work.Step, "test-runner", WorkOutcome.Failed, 1, TimeSpan.Zero, "sha256:00", null, "late",
            DateTimeOffset.UtcNow);
        return Dsse.Sign(result, WorkResult.PayloadType, key, SigningKeyIds.Thumbprint(key));
    }

    private static string Key() => $"acks-{Guid.NewGuid():N}";
}
