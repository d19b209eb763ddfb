using MassTransit;

namespace ControlPlane.ServiceDefaults.Messaging;

/// <summary>
/// The retry policy every consumer shares. Two nested filters: the inner one retries an ordinary failure a few
/// times quickly and hands a transient one straight out; the outer one waits out a transient failure (database
/// starting up, broker, Redis or a peer service down) with a long exponential backoff. A rejected message gets
/// neither and goes to _error at once with its reason. Only once the long budget is spent does a transient
/// failure reach _error, so a passing outage never loses a message.
/// </summary>
public static class TransientRetry
{
    public static void UseTransientAwareRetry(this IRabbitMqBusFactoryConfigurator cfg, BusExtensions.RetrySettings settings)
    {
        ArgumentNullException.ThrowIfNull(cfg);
        ArgumentNullException.ThrowIfNull(settings);
        var transient = settings.Transient;
        cfg.UseMessageRetry(r =>
        {
            r.Exponential(transient.Limit, transient.MinInterval, transient.MaxInterval, transient.MinInterval);
            r.Handle<Exception>(TransientFaults.IsTransient);
        });
        cfg.UseMessageRetry(r =>
        {
            r.Exponential(settings.Limit, settings.MinInterval, settings.MaxInterval, settings.MinInterval);
            r.Ignore<MessageRejectedException>();
            r.Ignore<Exception>(TransientFaults.IsTransient);
        });
    }
}
