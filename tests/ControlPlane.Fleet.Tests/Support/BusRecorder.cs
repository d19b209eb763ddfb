using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.Testing;
using MassTransit;

namespace ControlPlane.Fleet.Tests.Support;

/// <summary>
/// The test's own bus in the test vhost: publishes and sends as orchestrator would, and records every fleet event
/// (WorkPackageIssued, WorkCompleted, WorkRefused, SigningKeyPublished, FleetCapabilitiesChanged, WorkCredentialMinted / Revoked) as evidence would.
/// </summary>
public sealed class BusRecorder : IAsyncDisposable
{
    private readonly IBusControl _bus;
    private readonly ConcurrentQueue<object> _received = new();

    private BusRecorder(IBusControl bus) => _bus = bus;

    public static async Task<BusRecorder> StartAsync(TestVirtualHost vhost)
    {
        var broker = BrokerAddress.Parse(vhost.ConnectionString);
        BusRecorder? recorder = null;
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
            cfg.ReceiveEndpoint($"test-recorder-{Guid.NewGuid():N}", e =>
            {
                e.AutoDelete = true;
                e.Durable = false;
                e.Handler<WorkPackageIssued>(c => recorder!.Record(c.Message));
                e.Handler<WorkCompleted>(c => recorder!.Record(c.Message));
                e.Handler<WorkRefused>(c => recorder!.Record(c.Message));
                e.Handler<WorkAcknowledged>(c => recorder!.Record(c.Message));
                e.Handler<WorkResultSuperseded>(c => recorder!.Record(c.Message));
                e.Handler<SigningKeyPublished>(c => recorder!.Record(c.Message));
                e.Handler<FleetCapabilitiesChanged>(c => recorder!.Record(c.Message));
                e.Handler<WorkCredentialMinted>(c => recorder!.Record(c.Message));
                e.Handler<WorkCredentialRevoked>(c => recorder!.Record(c.Message));
            });
        });
        recorder = new BusRecorder(bus);
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        return recorder;
    }

    public IReadOnlyList<T> All<T>() => _received.OfType<T>().ToList();

    public Task PublishAsync<T>(T message) where T : class => _bus.Publish(message);

    public async Task SendAsync<T>(string queue, T message) where T : class
    {
        var endpoint = await _bus.GetSendEndpoint(new Uri($"queue:{queue}"));
        await endpoint.Send(message);
    }

    /// <summary>The first recorded event of type T that matches, waiting for it.</summary>
    public async Task<T> WaitForAsync<T>(Func<T, bool> match, string what, TimeSpan? timeout = null) where T : class
    {
        var found = await Eventually.UntilAsync(
            () => Task.FromResult(All<T>().FirstOrDefault(match)),
            m => m is not null,
            timeout ?? TimeSpan.FromSeconds(30),
            what);
        return found!;
    }

    private Task Record(object message)
    {
        _received.Enqueue(message);
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await _bus.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token);
}
