using System.Collections.Concurrent;
using System.Text.Json;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ControlPlane.ServiceDefaults.Tests.Messaging;

public sealed record ExplodingMessage(Guid Id, bool Permanent);

/// <summary>Throws on every delivery; counts attempts per message so the test sees the bounded retries.</summary>
public sealed class ExplodingConsumer : IConsumer<ExplodingMessage>
{
    public static readonly ConcurrentDictionary<Guid, int> Attempts = new();

    public Task Consume(ConsumeContext<ExplodingMessage> context)
    {
        Attempts.AddOrUpdate(context.Message.Id, 1, (_, n) => n + 1);
        throw context.Message.Permanent
            ? new MessageRejectedException("the message names a proposal that does not exist")
            : new InvalidOperationException("the database said no");
    }
}

/// <summary>The bus wiring every service shares, against the real RabbitMQ: nothing is ever dropped silently.</summary>
public sealed class ErrorQueueTests : IAsyncLifetime
{
    private TestVirtualHost _vhost = null!;
    private IHost _host = null!;

    public async ValueTask InitializeAsync()
    {
        _vhost = await TestVirtualHost.CreateAsync("errors");
        _host = await BusTestHost.StartAsync(_vhost, x => x.AddConsumer<ExplodingConsumer>());
    }

    [Fact]
    public async Task A_message_whose_consumer_throws_ends_in_the_error_queue_after_the_bounded_retries()
    {
        var id = Guid.NewGuid();
        await _host.Services.GetRequiredService<IBus>().Publish(new ExplodingMessage(id, Permanent: false));

        await Eventually.UntilAsync(async () => await _vhost.CountMessagesAsync("exploding_error") == 1, TimeSpan.FromSeconds(30), "the message in exploding_error");

        // One delivery plus Messaging:Retry:Limit (2 in tests) retries, then no more.
        await Task.Delay(500);
        Assert.Equal(3, ExplodingConsumer.Attempts[id]);
        var faulted = Assert.Single(await _vhost.PeekAsync("exploding_error"));
        var headers = faulted.GetProperty("properties").GetProperty("headers");
        Assert.Equal("the database said no", headers.GetProperty("MT-Fault-Message").GetString());
        Assert.Contains(id.ToString(), faulted.GetProperty("payload").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_rejected_message_is_not_retried_and_carries_its_reason_to_the_error_queue()
    {
        var id = Guid.NewGuid();
        await _host.Services.GetRequiredService<IBus>().Publish(new ExplodingMessage(id, Permanent: true));

        var reasons = await Eventually.UntilAsync(
            async () => (await _vhost.PeekAsync("exploding_error", 50))
                .Where(m => m.GetProperty("payload").GetString()!.Contains(id.ToString(), StringComparison.OrdinalIgnoreCase))
                .Select(m => m.GetProperty("properties").GetProperty("headers").GetProperty("MT-Fault-Message").GetString())
                .ToList(),
            found => found.Count == 1, TimeSpan.FromSeconds(30), "the rejected message in exploding_error");

        Assert.Equal(1, ExplodingConsumer.Attempts[id]);
        Assert.Equal("the message names a proposal that does not exist", reasons.Single());
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _vhost.DisposeAsync();
    }
}
