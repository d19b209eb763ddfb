using ControlPlane.ServiceDefaults.Caching;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Messaging;

namespace ControlPlane.Orchestrator;

internal static class Extensions
{
    public const string DatabaseName = "orchestrator-db";

    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.AddServiceDatabase(DatabaseName, typeof(Extensions).Assembly);
        builder.AddControlPlaneBus();
        builder.AddOutboxRelay();
        builder.AddRedisCache();
    }
}
