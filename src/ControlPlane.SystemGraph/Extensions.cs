using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Messaging;

namespace ControlPlane.SystemGraph;

internal static class Extensions
{
    public const string DatabaseName = "graph-db";

    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.AddServiceDatabase(DatabaseName, typeof(Extensions).Assembly);
        builder.AddControlPlaneBus();
        builder.AddOutboxRelay();
    }
}
