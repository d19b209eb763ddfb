using System.Text.Json;
using System.Text.Json.Serialization;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.Testing;
using MassTransit;

namespace ControlPlane.Evidence.Tests.Service;

/// <summary>
/// A plain MassTransit bus on the test vhost that publishes events the way the services do (kebab-case enums),
/// with a MessageId of the test's choosing so redelivery can be staged.
/// </summary>
internal sealed class TestPublisher : IAsyncDisposable
{
    private readonly IBusControl _bus;

    private TestPublisher(IBusControl bus) => _bus = bus;

    public static async Task<TestPublisher> StartAsync(TestVirtualHost vhost)
    {
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
        });
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        return new TestPublisher(bus);
    }

    public Task PublishAsync(object message, Guid? messageId = null) =>
        _bus.Publish(message, message.GetType(), Pipe.Execute<PublishContext>(c => c.MessageId = messageId ?? NewId.NextGuid()));

    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}
