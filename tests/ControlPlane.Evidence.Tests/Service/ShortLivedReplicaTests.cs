using ControlPlane.EvidenceScenarios;
using ControlPlane.Testing;

namespace ControlPlane.Evidence.Tests.Service;

/// <summary>
/// Replicas stopped right after they started (as the witness tests do) must leave no consumer behind: one that
/// finished starting after its host stopped took every other message from the queue and recorded none (CI, 2026-12-05).
/// </summary>
public sealed class ShortLivedReplicaTests(EvidenceFixture fixture) : IClassFixture<EvidenceFixture>
{
    [Fact]
    public async Task Replicas_stopped_right_after_starting_leave_every_message_to_the_one_still_running()
    {
        var ct = TestContext.Current.CancellationToken;
        for (var i = 0; i < 12; i++)
        {
            await using var replica = new ServiceHost<EvidenceService>(fixture.ReplicaSettings().Build());
            using var client = replica.CreateHttpClient();
            using var _ = await client.GetAsync("evidence/keys", ct);
        }

        using var scenario = EvidenceScenario.Create(workSteps: 1, interleave: false);
        foreach (var e in scenario.Events)
        {
            await fixture.Publisher.PublishAsync(e.Message);
        }

        var expected = scenario.Events.Count(e => e.ProposalId is not null);
        Assert.Equal(expected, (await fixture.WaitForRecordsAsync(scenario.ProposalId, expected, TimeSpan.FromSeconds(20))).Count);
        await Eventually.UntilAsync(async () => await fixture.VirtualHost.CountConsumersAsync("evidence") == 1,
            TimeSpan.FromSeconds(20), "the evidence queue to have only the running replica's consumer");
    }
}
