using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace ControlPlane.ServiceDefaults.Tests.Data;

/// <summary>Records what arrived, and in which trace, for the outbox tests.</summary>
public sealed class GraphChangedProbe : IConsumer<GraphChanged>
{
    public static readonly ConcurrentDictionary<string, (Guid MessageId, ActivityTraceId TraceId)> Received = new();

    public Task Consume(ConsumeContext<GraphChanged> context)
    {
        Received[context.Message.NodeOrEdge] = (context.MessageId!.Value, Activity.Current?.TraceId ?? default);
        return Task.CompletedTask;
    }
}

/// <summary>Counts every delivery of a GraphChanged by its key, with the MessageId of each.</summary>
public sealed class GraphChangedCounter : IConsumer<GraphChanged>
{
    public static readonly ConcurrentDictionary<string, ConcurrentBag<Guid>> Deliveries = new();

    public Task Consume(ConsumeContext<GraphChanged> context)
    {
        Deliveries.GetOrAdd(context.Message.NodeOrEdge, _ => []).Add(context.MessageId!.Value);
        return Task.CompletedTask;
    }
}

/// <summary>
/// The transactional outbox and inbox against real PostgreSQL and RabbitMQ, and the relay's confirm batches: many rows
/// confirmed together go out once each, and a row the broker refuses to confirm stays queued until it is confirmed.
/// </summary>
public sealed class OutboxTests : IAsyncLifetime
{
    private readonly ActivityListener _listener = new()
    {
        ShouldListenTo = _ => true,
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    };

    private const string Exchange = "ControlPlane.Contracts:GraphChanged"; // MassTransit's exchange for the message type

    private TestVirtualHost _vhost = null!;
    private TestDatabase _database = null!;
    private IHost _host = null!;
    private HttpClient _management = null!;

    private NpgsqlDataSource DataSource => _host.Services.GetRequiredService<NpgsqlDataSource>();

    public async ValueTask InitializeAsync()
    {
        ActivitySource.AddActivityListener(_listener);
        _vhost = await TestVirtualHost.CreateAsync("outbox");
        _database = await TestDatabase.CreateAsync("outbox");
        _management = new HttpClient { BaseAddress = TestServers.RabbitManagement, Timeout = TimeSpan.FromSeconds(15) };
        _management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("guest:guest")));
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new PlaneSettings(_vhost, PlaneSettings.NewRedisPrefix()).Database("outbox-db", _database.ConnectionString)
            .Set("Outbox:ConfirmTimeout", "00:00:05").Build());
        builder.AddServiceDatabase("outbox-db", typeof(OutboxTests).Assembly);
        builder.AddControlPlaneBus(x =>
        {
            x.AddConsumer<GraphChangedProbe>();
            x.AddConsumer<GraphChangedCounter>();
        });
        builder.AddOutboxRelay();
        _host = builder.Build();
        await _host.StartAsync();
        // Publishing before the probe's queue is bound would be dropped by the exchange, as in production.
        await _host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_committed_message_is_published_with_its_outbox_id_and_continues_the_callers_trace()
    {
        var key = $"node-{Guid.NewGuid():N}";
        Guid messageId;
        ActivityTraceId traceId;
        using (var request = new Activity("test request").Start())
        {
            traceId = request.TraceId;
            await using var work = await UnitOfWork.BeginAsync(DataSource, TestContext.Current.CancellationToken);
            messageId = await work.EnqueueAsync(new GraphChanged(1, "node-upserted", key, "tester", DateTimeOffset.UtcNow), TestContext.Current.CancellationToken);
            await work.CommitAsync(TestContext.Current.CancellationToken);
        }

        var received = await Eventually.UntilAsync(
            () => Task.FromResult(GraphChangedProbe.Received.TryGetValue(key, out var r) ? r : default),
            r => r.MessageId != Guid.Empty, TimeSpan.FromSeconds(20), "the published GraphChanged");

        Assert.Equal(messageId, received.MessageId);
        Assert.Equal(traceId, received.TraceId);
        // The row is marked sent when its batch's confirms are in, which may be just after the delivery.
        await Eventually.UntilAsync(async () => (await RowAsync(messageId)).Sent, TimeSpan.FromSeconds(20), "the row marked sent");
    }

    [Fact]
    public async Task A_rolled_back_transaction_publishes_nothing()
    {
        var key = $"node-{Guid.NewGuid():N}";
        await using (var work = await UnitOfWork.BeginAsync(DataSource, TestContext.Current.CancellationToken))
        {
            await work.EnqueueAsync(new GraphChanged(1, "node-upserted", key, "tester", DateTimeOffset.UtcNow), TestContext.Current.CancellationToken);
            // disposed without commit: rolled back
        }

        var marker = $"node-{Guid.NewGuid():N}";
        await using (var work = await UnitOfWork.BeginAsync(DataSource, TestContext.Current.CancellationToken))
        {
            await work.EnqueueAsync(new GraphChanged(2, "node-upserted", marker, "tester", DateTimeOffset.UtcNow), TestContext.Current.CancellationToken);
            await work.CommitAsync(TestContext.Current.CancellationToken);
        }

        // The relay publishes in order, so once the later marker arrived the rolled-back one would have too.
        await Eventually.UntilAsync(() => Task.FromResult(GraphChangedProbe.Received.ContainsKey(marker)), TimeSpan.FromSeconds(20), "the marker message");
        Assert.False(GraphChangedProbe.Received.ContainsKey(key));
    }

    [Fact]
    public async Task A_commit_wakes_the_relay_once_however_many_messages_it_queued_and_a_rollback_not_at_all()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var listener = await DataSource.OpenConnectionAsync(cancel);
        var notifications = 0;
        listener.Notification += (_, e) =>
        {
            if (e.Channel == OutboxRelay.Channel)
            {
                Interlocked.Increment(ref notifications);
            }
        };
        await using (var listen = new NpgsqlCommand($"listen {OutboxRelay.Channel}", listener))
        {
            await listen.ExecuteNonQueryAsync(cancel);
        }

        await using (var work = await UnitOfWork.BeginAsync(DataSource, cancel))
        {
            await work.EnqueueAsync(new GraphChanged(1, "node-upserted", $"node-{Guid.NewGuid():N}", "tester", DateTimeOffset.UtcNow), cancel);
            // disposed without commit: rolled back
        }

        Assert.False(await listener.WaitAsync(TimeSpan.FromMilliseconds(500), cancel));

        await using (var work = await UnitOfWork.BeginAsync(DataSource, cancel))
        {
            await work.EnqueueAsync(new GraphChanged(2, "node-upserted", $"node-{Guid.NewGuid():N}", "tester", DateTimeOffset.UtcNow), cancel);
            await work.EnqueueAsync(new GraphChanged(3, "node-upserted", $"node-{Guid.NewGuid():N}", "tester", DateTimeOffset.UtcNow), cancel);
            Assert.False(await listener.WaitAsync(TimeSpan.FromMilliseconds(200), cancel)); // nothing before the commit
            await work.CommitAsync(cancel);
        }

        Assert.True(await listener.WaitAsync(TimeSpan.FromSeconds(10), cancel), "the commit did not notify the relay's channel");
        while (await listener.WaitAsync(TimeSpan.FromMilliseconds(500), cancel))
        {
            // drain anything else that came
        }

        Assert.Equal(1, notifications);
    }

    [Fact]
    public async Task The_inbox_accepts_a_message_id_once_per_consumer()
    {
        var id = Guid.NewGuid();
        bool first, second, otherConsumer;
        await using (var work = await UnitOfWork.BeginAsync(DataSource, TestContext.Current.CancellationToken))
        {
            first = await work.AcceptOnceAsync("consumer-a", id, TestContext.Current.CancellationToken);
            await work.CommitAsync(TestContext.Current.CancellationToken);
        }

        await using (var work = await UnitOfWork.BeginAsync(DataSource, TestContext.Current.CancellationToken))
        {
            second = await work.AcceptOnceAsync("consumer-a", id, TestContext.Current.CancellationToken);
            otherConsumer = await work.AcceptOnceAsync("consumer-b", id, TestContext.Current.CancellationToken);
            await work.CommitAsync(TestContext.Current.CancellationToken);
        }

        Assert.True(first);
        Assert.False(second);
        Assert.True(otherConsumer);
    }

    [Fact]
    public async Task Only_contract_types_can_enter_the_outbox()
    {
        await using var work = await UnitOfWork.BeginAsync(DataSource, TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<ArgumentException>(() => work.EnqueueAsync(new { Hello = "world" }, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Every_row_of_several_confirm_batches_is_published_exactly_once()
    {
        const int count = 250; // more than one relay batch
        var prefix = $"batch-{Guid.NewGuid():N}-";
        var ids = new Dictionary<string, Guid>();
        await using (var work = await UnitOfWork.BeginAsync(DataSource, TestContext.Current.CancellationToken))
        {
            for (var i = 0; i < count; i++)
            {
                ids[prefix + i] = await work.EnqueueAsync(new GraphChanged(i, "node-upserted", prefix + i, "tester", DateTimeOffset.UtcNow), TestContext.Current.CancellationToken);
            }

            await work.CommitAsync(TestContext.Current.CancellationToken);
        }

        await Eventually.UntilAsync(() => Task.FromResult(ids.Keys.All(GraphChangedCounter.Deliveries.ContainsKey)), TimeSpan.FromSeconds(60), $"{count} deliveries");
        await Eventually.UntilAsync(() => UnsentAsync(ids.Values), n => n == 0, TimeSpan.FromSeconds(20), "every row marked sent");

        foreach (var (key, messageId) in ids)
        {
            Assert.Equal([messageId], GraphChangedCounter.Deliveries[key].ToArray());
        }
    }

    [Fact]
    public async Task While_another_replica_holds_the_relay_lock_nothing_is_relayed_and_after_it_everything_is()
    {
        var cancel = TestContext.Current.CancellationToken;
        var relay = _host.Services.GetServices<IHostedService>().OfType<OutboxRelay>().Single();
        var key = $"locked-{Guid.NewGuid():N}";
        Guid messageId;
        await using (var replica = await DataSource.OpenConnectionAsync(cancel))
        {
            await using var holding = await replica.BeginTransactionAsync(cancel);
            await using (var take = new NpgsqlCommand($"select pg_advisory_xact_lock({OutboxRelay.RelayLockKey})", replica, holding))
            {
                await take.ExecuteNonQueryAsync(cancel);
            }

            await using (var work = await UnitOfWork.BeginAsync(DataSource, cancel))
            {
                messageId = await work.EnqueueAsync(new GraphChanged(1, "node-upserted", key, "tester", DateTimeOffset.UtcNow), cancel);
                await work.CommitAsync(cancel);
            }

            Assert.Equal(0, await relay.RelayBatchAsync(cancel));
            Assert.False((await RowAsync(messageId)).Sent, "relayed while another replica held the lock");
            Assert.False(GraphChangedProbe.Received.ContainsKey(key));
        }

        // The other replica's transaction ended (its connection closed), so the lock is free again.
        await Eventually.UntilAsync(async () => (await RowAsync(messageId)).Sent, TimeSpan.FromSeconds(20), "the row relayed once the lock is free");
        await Eventually.UntilAsync(() => Task.FromResult(GraphChangedProbe.Received.ContainsKey(key)), TimeSpan.FromSeconds(20), "the message delivered");
    }

    [Fact]
    public async Task A_row_whose_confirm_failed_stays_queued_with_the_reason_and_goes_out_once_the_broker_confirms()
    {
        // A queue that rejects every publish makes the broker nack messages routed to it (x-overflow reject-publish).
        var blocker = $"reject-{Guid.NewGuid():N}";
        var vhost = Uri.EscapeDataString(_vhost.Name);
        (await _management.PutAsJsonAsync($"api/queues/{vhost}/{blocker}",
            new { durable = true, auto_delete = false, arguments = new Dictionary<string, object> { ["x-max-length"] = 0, ["x-overflow"] = "reject-publish" } },
            TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        (await _management.PostAsJsonAsync($"api/bindings/{vhost}/e/{Uri.EscapeDataString(Exchange)}/q/{blocker}", new { routing_key = "" },
            TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

        var key = $"nacked-{Guid.NewGuid():N}";
        Guid messageId;
        await using (var work = await UnitOfWork.BeginAsync(DataSource, TestContext.Current.CancellationToken))
        {
            messageId = await work.EnqueueAsync(new GraphChanged(1, "node-upserted", key, "tester", DateTimeOffset.UtcNow), TestContext.Current.CancellationToken);
            await work.CommitAsync(TestContext.Current.CancellationToken);
        }

        // A nack, or no confirm within Outbox:ConfirmTimeout (5 s here): either way a failed confirm, recorded on the row.
        var failed = await Eventually.UntilAsync(() => RowAsync(messageId), r => r.Sent || (r.Attempts >= 1 && r.LastError is not null),
            TimeSpan.FromSeconds(40), "the failed confirm to be recorded on the row");
        Assert.False(failed.Sent, $"sent although the broker rejected it (attempts {failed.Attempts})");

        (await _management.DeleteAsync($"api/queues/{vhost}/{blocker}", TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        var sent = await Eventually.UntilAsync(() => RowAsync(messageId), r => r.Sent, TimeSpan.FromSeconds(30), "the row to be sent after the block is gone");

        Assert.True(sent.Attempts > failed.Attempts);
        // Other queues got the nacked copies too: every delivery carries the row's MessageId, so inboxes drop repeats.
        var deliveries = GraphChangedCounter.Deliveries[key].ToArray();
        Assert.NotEmpty(deliveries);
        Assert.All(deliveries, d => Assert.Equal(messageId, d));
    }

    private async Task<long> UnsentAsync(IEnumerable<Guid> messageIds)
    {
        await using var command = DataSource.CreateCommand("select count(*) from outbox_messages where message_id = any($1) and sent_at is null");
        command.Parameters.Add(new() { Value = messageIds.ToArray() });
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    private async Task<(bool Sent, int Attempts, string? LastError)> RowAsync(Guid messageId)
    {
        await using var command = DataSource.CreateCommand("select sent_at is not null, attempts, last_error from outbox_messages where message_id = $1");
        command.Parameters.Add(new() { Value = messageId });
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        await reader.ReadAsync(TestContext.Current.CancellationToken);
        return (reader.GetBoolean(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2));
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        _management.Dispose();
        await _database.DisposeAsync();
        await _vhost.DisposeAsync();
        _listener.Dispose();
    }
}
