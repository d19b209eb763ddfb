using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.Testing;
using MassTransit;

namespace ControlPlane.Orchestrator.Tests.Infrastructure;

/// <summary>
/// The test's own connection to the vhost under test: it records what orchestrator publishes and publishes what
/// system-graph, policy and fleet would. <see cref="OnWorkRequested"/> lets a test play the fleet.
/// </summary>
public sealed class TestBus : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Type, ConcurrentQueue<object>> _seen = new();
    private readonly IBusControl _bus;

    private TestBus(IBusControl bus) => _bus = bus;

    /// <summary>Called for every WorkRequested; publish WorkCompleted (or nothing) to play the fleet.</summary>
    public Func<WorkRequested, TestBus, Task>? OnWorkRequested { get; set; }

    public IBus Bus => _bus;

    public static async Task<TestBus> StartAsync(TestVirtualHost vhost)
    {
        TestBus? self = null;
        var broker = BrokerAddress.Parse(vhost.ConnectionString);
        var bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(broker.Host, broker.Port, broker.VirtualHost, "orchestrator-tests", h =>
            {
                h.Username(broker.Username);
                h.Password(broker.Password);
            });
            cfg.ConfigureJsonSerializerOptions(options =>
            {
                options.Converters.Insert(0, new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
                return options;
            });
            cfg.ReceiveEndpoint("orchestrator-tests-observer", e =>
            {
                Record<ProposalSubmitted>(e, () => self!);
                Record<ProposalStateChanged>(e, () => self!);
                Record<ProposalTransitionRefused>(e, () => self!);
                Record<ProposalSubmissionRefused>(e, () => self!);
                Record<ApprovalRecorded>(e, () => self!);
                Record<KillSwitchChanged>(e, () => self!);
                Record<ChangeWindowChanged>(e, () => self!);
                Record<WorkWithdrawn>(e, () => self!);
                Record<WorkResultSuperseded>(e, () => self!);
                Record<ChangeRequestLinked>(e, () => self!);
                Record<ExternalApprovalIgnored>(e, () => self!);
                Record<ValidationVerdict>(e, () => self!);
                e.Handler<WorkRequested>(async context =>
                {
                    self!.Add(context.Message);
                    if (self.OnWorkRequested is { } play)
                    {
                        await play(context.Message, self);
                    }
                });
            });
        });
        self = new TestBus(bus);
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        return self;
    }

    private static void Record<T>(IRabbitMqReceiveEndpointConfigurator e, Func<TestBus> self) where T : class =>
        e.Handler<T>(context =>
        {
            self().Add(context.Message);
            return Task.CompletedTask;
        });

    private void Add(object message) => _seen.GetOrAdd(message.GetType(), _ => new ConcurrentQueue<object>()).Enqueue(message);

    public IReadOnlyList<T> Seen<T>() => _seen.TryGetValue(typeof(T), out var queue) ? queue.OfType<T>().ToList() : [];

    public Task<T> WaitForAsync<T>(Func<T, bool> match, string what, TimeSpan? timeout = null) =>
        Eventually.UntilAsync(() => Task.FromResult(Seen<T>().FirstOrDefault(match)), m => m is not null, timeout ?? TimeSpan.FromSeconds(20), what)!;

    public Task PublishAsync<T>(T message) where T : class => _bus.Publish(message);

    /// <summary>Plays a fleet runner finishing a piece of work.</summary>
    /// <summary>As fleet reports a step: a runner's outcome (succeeded, failed) carries the runner's signed result; a timeout none.</summary>
    public Task CompleteAsync(WorkRequested work, WorkOutcome outcome, string? reason = null)
    {
        DsseEnvelope? signed = null;
        if (outcome is WorkOutcome.Succeeded or WorkOutcome.Failed)
        {
            var result = new WorkResult(work.WorkId, work.ProposalId, work.Step, "test-runner", outcome, outcome == WorkOutcome.Succeeded ? 0 : 1, TimeSpan.Zero,
                "sha256:00", null, reason, DateTimeOffset.UtcNow);
            signed = Dsse.Sign(result, WorkResult.PayloadType, RunnerKey, SigningKeyIds.Thumbprint(RunnerKey));
        }

        return _bus.Publish(new WorkCompleted(work.ProposalId, work.WorkId, work.Step, "test-runner", outcome, signed, reason, DateTimeOffset.UtcNow));
    }

    private static readonly System.Security.Cryptography.ECDsa RunnerKey =
        System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);

    public async ValueTask DisposeAsync() => await _bus.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
}
