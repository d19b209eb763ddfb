using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ControlPlane.ServiceDefaults.Tests.Messaging;

/// <summary>
/// Issue 9 item 4: no start order. On a fresh vhost a publisher runs before any consumer ever did; its events
/// wait in the consumers' queues (PlaneTopology) and the real consumer, started later, takes them.
/// </summary>
public sealed class StartOrderTests
{
    [Fact]
    public async Task Events_published_before_their_consumers_ever_ran_wait_in_their_queues_and_are_consumed_later()
    {
        await using var vhost = await TestVirtualHost.CreateAsync("startorder");
        var settings = new PlaneSettings(vhost, PlaneSettings.NewRedisPrefix());
        var proposalId = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow;

        // A publisher as every service is one (AddControlPlaneBus), on a vhost where nothing else has run.
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings.Build());
        builder.AddControlPlaneBus();
        // It stays up to the end: MassTransit keeps its log context in a static, from the first bus of the process.
        using var publisher = builder.Build();
        await publisher.StartAsync();
        var bus = publisher.Services.GetRequiredService<IBus>();
        await bus.Publish(new ProposalSubmitted(proposalId, "sha256:start-order", "remediation-agent", null, "remediation",
            new ProposedAction("restart", "start order", new Dictionary<string, string>()), ["billing"], "dev",
            new ChangeReference("sha256:1", "ref", null), at));
        await bus.Publish(new KillSwitchChanged("environment", "dev", true, "start order", "oscar.operator@example.com", at));

        // Nothing consumed yet, nothing dropped: each consumer's queue holds what is meant for it.
        await Eventually.UntilAsync(() => vhost.CountMessagesAsync(PlaneTopology.Evidence), n => n == 2, TimeSpan.FromSeconds(20), "both events in the evidence queue");
        Assert.Equal(1, await Eventually.UntilAsync(() => vhost.CountMessagesAsync("system-graph-proposal-submitted"), n => n == 1, TimeSpan.FromSeconds(20), "ProposalSubmitted in system-graph's queue"));
        Assert.Null(await vhost.CountMessagesAsync("policy-impact-assessed")); // only published types declare their queues

        // Evidence starts now, on the queue the publisher declared (same declaration: no PRECONDITION_FAILED), and records both.
        await using var db = await TestDatabase.CreateAsync("evidence");
        await using var evidence = new ServiceHost<ControlPlane.Evidence.EvidenceService>(settings
            .Database("evidence-db", db.ConnectionString)
            .Service("identity", new Uri("http://127.0.0.1:9"))
            .Build());
        await evidence.WaitUntilReadyAsync();
        await using var data = db.OpenDataSource();
        var kinds = await Eventually.UntilAsync(async () =>
        {
            await using var command = data.CreateCommand("select kind from evidence_records where kind in ('ProposalSubmitted', 'KillSwitchChanged') order by kind");
            var found = new List<string>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                found.Add(reader.GetString(0));
            }

            return found;
        }, found => found.Count == 2, TimeSpan.FromSeconds(30), "evidence to record the events published before it started");

        Assert.Equal(["KillSwitchChanged", "ProposalSubmitted"], kinds);
        Assert.Equal(1, await vhost.CountMessagesAsync("system-graph-proposal-submitted")); // still waiting for system-graph
        await publisher.StopAsync();
    }

    [Fact]
    public void The_plane_topology_lists_each_queue_and_message_once()
    {
        var duplicates = PlaneTopology.Bindings.GroupBy(b => (b.Queue, b.Message)).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.Empty(duplicates);
        Assert.All(PlaneTopology.Bindings, b => Assert.Equal("ControlPlane.Contracts", b.Message.Namespace));
    }
}
