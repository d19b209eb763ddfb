using System.Collections.Concurrent;
using System.Text;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;

namespace ControlPlane.ServiceDefaults.Tests.Messaging;

public sealed record BrokenProbe(Guid Id, int Count, string Note);

public sealed class BrokenProbeConsumer : IConsumer<BrokenProbe>
{
    public static readonly ConcurrentDictionary<Guid, BrokenProbe> Consumed = new();

    public Task Consume(ConsumeContext<BrokenProbe> context)
    {
        Consumed[context.Message.Id] = context.Message;
        return Task.CompletedTask;
    }
}

/// <summary>
/// Issue 9 item 7 on the bus, against the real RabbitMQ: bodies that are not JSON, not the envelope, of an unknown
/// content type, empty, or with wrong types and odd unicode in the message each land in the queue's _error queue
/// with a reason, and the consumer keeps taking the good messages that follow.
/// </summary>
public sealed class BrokenMessageTests : IAsyncLifetime
{
    private const string Queue = "broken-probe";
    private TestVirtualHost _vhost = null!;
    private IHost _host = null!;

    public async ValueTask InitializeAsync()
    {
        _vhost = await TestVirtualHost.CreateAsync("broken");
        _host = await BusTestHost.StartAsync(_vhost, x => x.AddConsumer<BrokenProbeConsumer>());
    }

    [Fact]
    public async Task Broken_bodies_land_in_the_error_queue_with_a_reason_and_the_consumer_keeps_consuming()
    {
        const string envelope = "application/vnd.masstransit+json";
        var messageType = $"urn:message:{typeof(BrokenProbe).Namespace}:{nameof(BrokenProbe)}";
        string Envelope(string message) => $$"""{"messageId":"{{Guid.NewGuid()}}","messageType":["{{messageType}}"],"message":{{message}}}""";
        var broken = new (string Name, string ContentType, byte[] Body)[]
        {
            ("not JSON", envelope, Encoding.UTF8.GetBytes("{{{ not json")),
            ("empty body", envelope, []),
            ("unknown content type", "application/x-unknown", Encoding.UTF8.GetBytes("hello")),
            ("invalid UTF-8", envelope, [0x7B, 0xC3, 0x28, 0xFF, 0x7D]),
            ("wrong types", envelope, Encoding.UTF8.GetBytes(Envelope("""{"id":"not-a-guid","count":"many","note":42}"""))),
            ("lone surrogate", envelope, Encoding.UTF8.GetBytes(Envelope($$"""{"id":"{{Guid.NewGuid()}}","count":1,"note":"\ud800"}"""))),
            ("huge number", envelope, Encoding.UTF8.GetBytes(Envelope($$"""{"id":"{{Guid.NewGuid()}}","count":1e999999,"note":"x"}"""))),
        };

        var factory = new ConnectionFactory { Uri = new Uri(_vhost.ConnectionString) };
        await using (var connection = await factory.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            foreach (var (name, contentType, body) in broken)
            {
                var properties = new BasicProperties { ContentType = contentType, MessageId = Guid.NewGuid().ToString(), Headers = new Dictionary<string, object?> { ["probe"] = name } };
                await channel.BasicPublishAsync(Queue, string.Empty, mandatory: true, properties, body);
            }
        }

        // A good message after the broken ones is consumed: the loop is alive.
        var good = new BrokenProbe(Guid.NewGuid(), 3, "after the broken ones \u00e9\U0001F600");
        await _host.Services.GetRequiredService<IBus>().Publish(good);
        var consumed = await Eventually.UntilAsync(() => Task.FromResult(BrokenProbeConsumer.Consumed.GetValueOrDefault(good.Id)), c => c is not null,
            TimeSpan.FromSeconds(30), "the good message after the broken ones");
        Assert.Equal(good, consumed);

        var errors = await Eventually.UntilAsync(() => _vhost.PeekAsync($"{Queue}_error", 50), e => e.Count >= broken.Length, TimeSpan.FromSeconds(30),
            $"all {broken.Length} broken messages in {Queue}_error");
        var reasons = errors.ToDictionary(
            e => e.GetProperty("properties").GetProperty("headers").GetProperty("probe").GetString()!,
            e => Reason(e));
        Assert.Equal(broken.Select(b => b.Name).Order(), reasons.Keys.Order());
        Assert.All(reasons, r => Assert.False(string.IsNullOrWhiteSpace(r.Value), $"{r.Key} has no reason in its headers"));
        Assert.Equal(0, await _vhost.CountMessagesAsync(Queue));
    }

    private static string Reason(System.Text.Json.JsonElement message)
    {
        var headers = message.GetProperty("properties").GetProperty("headers");
        foreach (var name in new[] { "MT-Fault-Message", "MT-Reason" })
        {
            if (headers.TryGetProperty(name, out var value) && value.GetString() is { Length: > 0 } text)
            {
                return text;
            }
        }

        return string.Empty;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _vhost.DisposeAsync();
    }
}
