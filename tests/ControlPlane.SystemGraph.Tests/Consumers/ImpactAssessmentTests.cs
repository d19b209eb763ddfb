using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.Testing;

namespace ControlPlane.SystemGraph.Tests.Consumers;

[Collection(GraphCollection.Name)]
public sealed class ImpactAssessmentTests(GraphFixture fixture)
{
    private const string Queue = "system-graph-proposal-submitted";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static ProposalSubmitted Proposal(params string[] targets) => new(
        Guid.NewGuid(), "sha256:" + new string('a', 64), "remediation-agent", "sam@example.com", "remediation",
        new ProposedAction("deploy", "Deploy billing 2.4.1", new Dictionary<string, string> { ["image"] = "billing:2.4.1" }),
        targets, "production", new ChangeReference("sha256:" + new string('b', 64), "git@example.com:billing.git#2.4.1", "redeploy 2.4.0"),
        DateTimeOffset.UtcNow);

    [Fact]
    public async Task A_ProposalSubmitted_delivered_twice_gives_exactly_one_ImpactAssessed_with_the_billing_blast_radius()
    {
        var proposal = Proposal("billing");
        var messageId = Guid.NewGuid();
        var version = await fixture.CurrentVersionAsync();

        var acknowledged = await fixture.Plane.Vhost.AcknowledgedAsync(Queue);
        await fixture.Bus.PublishAsync(proposal, messageId);
        await fixture.Bus.PublishAsync(proposal, messageId);

        var assessed = await Eventually.UntilAsync(() => Task.FromResult(fixture.Bus.Received<ImpactAssessed>().Where(m => m.Message.ProposalId == proposal.ProposalId).ToList()),
            m => m.Count >= 1, Wait, "ImpactAssessed for the billing proposal");
        await fixture.Plane.WaitUntilSettledAsync(Queue, acknowledged, deliveries: 2, Wait);

        Assert.Single(fixture.Bus.Received<ImpactAssessed>(), m => m.Message.ProposalId == proposal.ProposalId);
        Assert.Equal(1, await fixture.Plane.CountAsync($"select count(*) from impact_assessments where proposal_id = '{proposal.ProposalId}'"));
        var impact = assessed[0].Message.Impact;
        Assert.Equal(proposal.ContentHash, assessed[0].Message.Proposal.ContentHash);
        Assert.Equal(["billing-admin", "checkout", "reporting", "gateway", "web-app"], impact.Dependents.Select(d => d.NodeId));
        // Reachability is assessed with the impact: billing through gateway → checkout; the VPN-only admin tool is not reachable.
        Assert.Equal(["gateway", "checkout", "billing"], Assert.Single(impact.TargetNodes!).ReachablePath);
        Assert.False(impact.Dependents.Single(d => d.NodeId == "billing-admin").Reachable);
        Assert.True(impact.RevenuePath);
        Assert.True(impact.InternetExposed);
        Assert.Equal(0, impact.HighestCriticality);
        Assert.Contains("regulated", impact.DataClasses);
        Assert.True(impact.GraphVersion >= version);
        Assert.Contains("touches revenue path via checkout → billing", impact.Reasons);
    }

    [Fact]
    public async Task A_proposal_after_a_graph_change_is_assessed_once_against_the_new_version()
    {
        var before = Proposal("billing");
        await fixture.Bus.PublishAsync(before, Guid.NewGuid());
        await Eventually.UntilAsync(() => Task.FromResult(fixture.Bus.Received<ImpactAssessed>().Count(m => m.Message.ProposalId == before.ProposalId)),
            count => count == 1, Wait, "ImpactAssessed for the proposal before the change");

        // The snapshot in memory is now older than the graph: the assessment finds that out in its unit of work. New
        // nodes of their own, so the demo graph other tests assert on stays as it is.
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (target, dependent) = ("newcomer-" + suffix, "newcomer-caller-" + suffix);
        var admin = await fixture.ClientAsync(GraphFixture.Admin);
        foreach (var id in (string[])[target, dependent])
        {
            using var node = await admin.PutAsJsonAsync($"graph/nodes/{id}", new
            {
                kind = "service", name = "Newcomer", team = "assessment-tests", criticalityTier = 3, revenuePath = false,
                dataClasses = Array.Empty<string>(), internetExposed = false,
            }, TestContext.Current.CancellationToken);
            Assert.True(node.IsSuccessStatusCode, $"PUT node {id}: {(int)node.StatusCode}");
        }

        using (var edge = await admin.PutAsJsonAsync("graph/edges", new { from = dependent, to = target, kind = "calls" }, TestContext.Current.CancellationToken))
        {
            Assert.True(edge.IsSuccessStatusCode, $"PUT edge: {(int)edge.StatusCode}");
        }

        var version = await fixture.CurrentVersionAsync();
        var after = Proposal(target);
        await fixture.Bus.PublishAsync(after, Guid.NewGuid());

        var assessed = await Eventually.UntilAsync(() => Task.FromResult(fixture.Bus.Received<ImpactAssessed>().Where(m => m.Message.ProposalId == after.ProposalId).ToList()),
            m => m.Count >= 1, Wait, "ImpactAssessed for the proposal after the change");
        var impact = Assert.Single(assessed).Message.Impact;
        Assert.True(impact.GraphVersion >= version, $"assessed against graph version {impact.GraphVersion}, the graph was at {version}");
        Assert.Empty(impact.UnknownTargets);
        Assert.Equal([dependent], impact.Dependents.Select(d => d.NodeId));
        Assert.Equal(1, await fixture.Plane.CountAsync($"select count(*) from impact_assessments where proposal_id = '{after.ProposalId}'"));
    }

    [Fact]
    public async Task An_unknown_target_is_assessed_with_a_reason_rather_than_failing()
    {
        var proposal = Proposal("billing", "no-such-service");

        await fixture.Bus.PublishAsync(proposal, Guid.NewGuid());

        var assessed = await Eventually.UntilAsync(() => Task.FromResult(fixture.Bus.Received<ImpactAssessed>().Where(m => m.Message.ProposalId == proposal.ProposalId).ToList()),
            m => m.Count >= 1, Wait, "ImpactAssessed for the proposal with an unknown target");
        var impact = assessed[0].Message.Impact;
        Assert.Equal(["no-such-service"], impact.UnknownTargets);
        Assert.Contains($"unknown target 'no-such-service' is not in graph version {impact.GraphVersion}", impact.Reasons);
        Assert.Equal(0, await fixture.Plane.Vhost.CountMessagesAsync(Queue + "_error") ?? 0);
    }

    [Fact]
    public async Task Seeding_again_at_a_restart_creates_no_new_graph_version()
    {
        var before = await fixture.CurrentVersionAsync();

        await using (var second = new ServiceHost<SystemGraphService>(fixture.Plane.Settings))
        {
            await second.WaitUntilReadyAsync();
        }

        Assert.Equal(before, await fixture.CurrentVersionAsync());
    }
}
