using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Messaging;

namespace ControlPlane.Fleet;

internal static class Extensions
{
    public const string DatabaseName = "fleet-db";

    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.AddServiceDatabase(DatabaseName, typeof(Extensions).Assembly);
        builder.AddControlPlaneBus();
        builder.AddOutboxRelay();
    }
}
