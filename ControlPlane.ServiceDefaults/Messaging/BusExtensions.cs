using System.Text.Json;
using System.Text.Json.Serialization;
using ControlPlane.ServiceDefaults.Security;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ControlPlane.ServiceDefaults.Messaging;

/// <summary>
/// MassTransit on RabbitMQ from ConnectionStrings:messaging (an amqp URI, as Aspire gives it): kebab-case
/// endpoints, durable queues, bounded retries (long ones while a dependency is down, see <see cref="TransientRetry"/>),
/// and the MassTransit default of moving a message whose retries are spent to its queue's _error queue with the
/// fault reason in its headers.
/// </summary>
public static class BusExtensions
{
    public const string ConnectionName = "messaging";

    public static TBuilder AddControlPlaneBus<TBuilder>(
        this TBuilder builder,
        Action<IBusRegistrationConfigurator>? registerConsumers = null,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator>? configureBus = null)
        where TBuilder : IHostApplicationBuilder
    {
        var broker = BrokerAddress.Parse(builder.Configuration.GetConnectionString(ConnectionName) ?? throw new InvalidOperationException(
            $"ConnectionStrings:{ConnectionName} is not set. Set ConnectionStrings__{ConnectionName}=amqp://guest:guest@127.0.0.1:5672 " +
            "(the AppHost and ./run.sh set it)."));
        var retry = builder.Configuration.GetSection("Messaging:Retry").Get<RetrySettings>() ?? new RetrySettings();

        builder.Services.AddMassTransit(x =>
        {
            x.SetKebabCaseEndpointNameFormatter();
            // MassTransit reports each bus's configuration to usage-tracking.masstransit.io unless told not to (found in
            // the services' logs as a failed lookup on this offline machine). Nothing leaves the plane unasked.
            x.DisableUsageTelemetry();
            // Every replica keeps its own revocation list, so this consumer gets a temporary queue of its own:
            // the instance id makes the name unique per process (an exclusive queue cannot be shared).
            x.AddConsumer<PrincipalRevokedConsumer>().Endpoint(e =>
            {
                e.Temporary = true;
                e.InstanceId = $"{builder.Environment.ApplicationName}-{Guid.NewGuid():N}".ToLowerInvariant();
            });
            registerConsumers?.Invoke(x);
            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(broker.Host, broker.Port, broker.VirtualHost, builder.Environment.ApplicationName, h =>
                {
                    h.Username(broker.Username);
                    h.Password(broker.Password);
                });
                cfg.ConfigureJsonSerializerOptions(options =>
                {
                    options.Converters.Insert(0, new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
                    return options;
                });
                cfg.UseTransientAwareRetry(retry);
                // No start order: every consumer queue exists before anything is published (PlaneTopology).
                cfg.DeclarePlaneTopology();
                configureBus?.Invoke(context, cfg);
                cfg.ConfigureEndpoints(context);
            });
        });
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = false; // the broker may come later; /health says so meanwhile
            o.StopTimeout = TimeSpan.FromSeconds(30);
        });
        return builder;
    }

    public sealed record RetrySettings
    {
        public int Limit { get; init; } = 3;
        public TimeSpan MinInterval { get; init; } = TimeSpan.FromMilliseconds(200);
        public TimeSpan MaxInterval { get; init; } = TimeSpan.FromSeconds(2);

        /// <summary>Messaging:Retry:Transient: how long a consumer waits out a dependency that is down.</summary>
        public TransientRetrySettings Transient { get; init; } = new();
    }

    /// <summary>Defaults ride out a PostgreSQL or service restart of a few minutes (about 6 min in all).</summary>
    public sealed record TransientRetrySettings
    {
        public int Limit { get; init; } = 20;
        public TimeSpan MinInterval { get; init; } = TimeSpan.FromSeconds(1);
        public TimeSpan MaxInterval { get; init; } = TimeSpan.FromSeconds(30);
    }
}

/// <summary>The parts of an amqp://user:password@host:port/vhost URI.</summary>
public sealed record BrokerAddress(string Host, ushort Port, string VirtualHost, string Username, string Password)
{
    public static BrokerAddress Parse(string connectionString)
    {
        if (!Uri.TryCreate(connectionString, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps" or "rabbitmq"))
        {
            throw new InvalidOperationException("The messaging connection string must be an amqp URI such as amqp://user:password@host:5672/vhost.");
        }

        var userInfo = uri.UserInfo.Split(':', 2);
        var user = userInfo[0].Length > 0 ? Uri.UnescapeDataString(userInfo[0]) : "guest";
        var password = userInfo.Length > 1 ? Uri.UnescapeDataString(userInfo[1]) : "guest";
        var path = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        var port = uri.IsDefaultPort || uri.Port <= 0 ? (ushort)(uri.Scheme == "amqps" ? 5671 : 5672) : (ushort)uri.Port;
        return new BrokerAddress(uri.Host, port, path.Length == 0 ? "/" : path, user, password);
    }
}

/// <summary>
/// Thrown by a consumer for a message that can never be handled (bad input, invalid token): no retries, the
/// message goes to the _error queue and its reason travels in the fault headers.
/// </summary>
public sealed class MessageRejectedException(string reason) : Exception(reason);
