using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using ControlPlane.ServiceDefaults.Messaging;
using MassTransit;

namespace ControlPlane.Testing;

/// <summary>
/// A MassTransit bus of the test's own on a test vhost, serialising like the services do: it publishes messages
/// as another service would (with a chosen MessageId, to replay a delivery) and records every message of the
/// observed types that the services publish, on a temporary queue of its own.
/// </summary>
public sealed class TestBus : IAsyncDisposable
{
    private readonly IBusControl _bus;
    private readonly ConcurrentQueue<(Guid? MessageId, object Message)> _received;

    private TestBus(IBusControl bus, ConcurrentQueue<(Guid?, object)> received)
    {
        _bus = bus;
        _received = received;
    }

    /// <summary>Starts the bus; <paramref name="observe"/> names the message types to record (e.g. o => o.Observe&lt;ImpactAssessed&gt;()).</summary>
    public static async Task<TestBus> StartAsync(TestVirtualHost vhost, Action<Observations>? observe = null)
    {
        var received = new ConcurrentQueue<(Guid?, object)>();
        var observations = new Observations(received);
        observe?.Invoke(observations);
        var broker = BrokerAddress.Parse(vhost.ConnectionString);
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(broker.Host, broker.Port, broker.VirtualHost, h =>
            {
                h.Username(broker.Username);
                h.Password(broker.Password);
            });
            cfg.ConfigureJsonSerializerOptions(options =>
            {
                options.Converters.Insert(0, new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
                return options;
            });
            if (observations.Handlers.Count > 0)
            {
                cfg.ReceiveEndpoint($"test-observer-{Guid.NewGuid():N}", e =>
                {
                    e.AutoDelete = true;
                    e.Durable = false;
                    foreach (var handler in observations.Handlers)
                    {
                        handler(e);
                    }
                });
            }
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await bus.StartAsync(timeout.Token);
        return new TestBus(bus, received);
    }

    /// <summary>Publishes as its runtime type, with the given MessageId (to stage a redelivery) or a new one.</summary>
    public Task PublishAsync(object message, Guid? messageId = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        return _bus.Publish(message, message.GetType(), Pipe.Execute<PublishContext>(context => context.MessageId = messageId ?? NewId.NextGuid()));
    }

    /// <summary>The observed messages of type T received so far, with their MessageIds.</summary>
    public IReadOnlyList<(Guid? MessageId, T Message)> Received<T>() where T : class =>
        [.. _received.Where(r => r.Message is T).Select(r => (r.MessageId, (T)r.Message))];

    public async ValueTask DisposeAsync() => await _bus.StopAsync();

    public sealed class Observations
    {
        private readonly ConcurrentQueue<(Guid?, object)> _received;

        internal Observations(ConcurrentQueue<(Guid?, object)> received) => _received = received;

        internal List<Action<IRabbitMqReceiveEndpointConfigurator>> Handlers { get; } = [];

        public Observations Observe<T>() where T : class
        {
            Handlers.Add(e => e.Handler<T>(context =>
            {
                _received.Enqueue((context.MessageId, context.Message));
                return Task.CompletedTask;
            }));
            return this;
        }
    }
}
