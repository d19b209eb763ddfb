using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Scheduling;
using ControlPlane.Orchestrator.Tests.Infrastructure;

namespace ControlPlane.Orchestrator.Tests.Integration;

public sealed class RestartPlane(IdentityFixture identity) : PlaneFixture(identity, "orch-restart")
{
    protected override IReadOnlyList<ChangeWindowRequest> Windows => FreezeEverything;
}

/// <summary>State lives in PostgreSQL and messages in the outbox and durable queues: a restart loses nothing.</summary>
public sealed class RestartTests(RestartPlane fixture) : IClassFixture<RestartPlane>
{
    [Fact]
    public async Task The_lifecycle_survives_a_restart_of_orchestrator_mid_flow()
    {
        var plane = fixture.Plane;
        var id = await plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal($"restart-{Guid.NewGuid():N}", "production"));

        // Down right after accepting: ProposalSubmitted may still sit in the outbox; the next host relays it.
        await plane.StopHostAsync();
        await plane.StartHostAsync();
        var submitted = await plane.AssessAsync(id);

        // Down again while system-graph and policy answer: their events wait in orchestrator's durable queues.
        await plane.StopHostAsync();
        await plane.DecideAsync(id, OrchestratorPlane.RequireApproval());
        await plane.StartHostAsync();
        await plane.WaitForStateAsync(id, ProposalState.AwaitingApproval);

        using (var alice = await plane.HumanAsync(IdentityFixture.Alice))
        using (var approved = await alice.PostAsync($"proposals/{id}/approvals", System.Net.Http.Json.JsonContent.Create(new { decision = "approve" })))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, approved.StatusCode);
        }

        var done = await plane.GetAsync(id);
        Assert.Equal(ProposalState.Scheduled, done.State);
        Assert.Equal(submitted.ContentHash, done.ContentHash);
        Assert.Equal(
            [ProposalState.Submitted, ProposalState.Assessing, ProposalState.AwaitingApproval, ProposalState.Authorized, ProposalState.Scheduled],
            done.History.Select(h => h.To));
    }
}
