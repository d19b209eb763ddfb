using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Messaging;

namespace ControlPlane.Evidence;

internal static class Extensions
{
    public const string DatabaseName = "evidence-db";

    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.AddServiceDatabase(DatabaseName, typeof(Extensions).Assembly);
        builder.AddControlPlaneBus();
        builder.AddOutboxRelay();
    }
}
