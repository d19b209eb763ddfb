using ControlPlane.Fleet.Consumers;
using ControlPlane.Fleet.Credentials;
using ControlPlane.Fleet.Runners;
using ControlPlane.Fleet.Signing;
using ControlPlane.Fleet.Work;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ControlPlane.Fleet;

internal static class Extensions
{
    public const string DatabaseName = "fleet-db";

    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.AddServiceDatabase(DatabaseName, typeof(Extensions).Assembly);
        builder.AddControlPlaneBus(x =>
        {
            x.AddConsumer<WorkRequestedConsumer>();
            x.AddConsumer<WorkWithdrawnConsumer>();
        });
        builder.AddOutboxRelay();

        builder.Services.Configure<FleetOptions>(builder.Configuration.GetSection(FleetOptions.Section));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(KeyProtector.FromConfiguration(builder.Configuration, builder.Environment, "Fleet:KeyEncryptionKey", "fleet-signing-keys"));
        builder.Services.AddSingleton<FleetSigningKeys>();
        builder.Services.AddSingleton<WorkSignal>();
        builder.Services.AddSingleton<RunnerRegistry>();
        builder.Services.AddSingleton<WorkDispatcher>();
        builder.Services.AddSingleton<ResultIntake>();
        builder.Services.AddSingleton<CredentialIntrospector>();
        builder.Services.AddHostedService<FleetKeyStartup>();
        builder.Services.AddHostedService<FleetPoller>();
    }
}
