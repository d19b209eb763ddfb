using System.Collections.Concurrent;
using System.Diagnostics;
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

/// <summary>The transactional outbox and inbox against real PostgreSQL and RabbitMQ.</summary>
public sealed class OutboxTests : IAsyncLifetime
{
    private readonly ActivityListener _listener = new()
    {
        ShouldListenTo = _ => true,
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    };

    private TestVirtualHost _vhost = null!;
    private TestDatabase _database = null!;
    private IHost _host = null!;

    private NpgsqlDataSource DataSource => _host.Services.GetRequiredService<NpgsqlDataSource>();

    public async ValueTask InitializeAsync()
    {
        ActivitySource.AddActivityListener(_listener);
        _vhost = await TestVirtualHost.CreateAsync("outbox");
        _database = await TestDatabase.CreateAsync("outbox");
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new PlaneSettings(_vhost, PlaneSettings.NewRedisPrefix()).Database("outbox-db", _database.ConnectionString).Build());
        builder.AddServiceDatabase("outbox-db", typeof(OutboxTests).Assembly);
        builder.AddControlPlaneBus(x => x.AddConsumer<GraphChangedProbe>());
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
        await using var sent = DataSource.CreateCommand("select sent_at is not null from outbox_messages where message_id = $1");
        sent.Parameters.Add(new() { Value = messageId });
        Assert.Equal(true, await sent.ExecuteScalarAsync(TestContext.Current.CancellationToken));
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

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _database.DisposeAsync();
        await _vhost.DisposeAsync();
        _listener.Dispose();
    }
}
