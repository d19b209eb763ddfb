using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.SystemGraph.Catalog;
using ControlPlane.SystemGraph.Consumers;
using ControlPlane.SystemGraph.Data;
using ControlPlane.SystemGraph.Deployments;
using ControlPlane.SystemGraph.Graph;
using ControlPlane.SystemGraph.Seed;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ControlPlane.SystemGraph;

internal static class Extensions
{
    public const string DatabaseName = "graph-db";

    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.AddServiceDatabase(DatabaseName, typeof(Extensions).Assembly);
        builder.AddControlPlaneBus(x =>
        {
            x.AddConsumer<ProposalSubmittedConsumer>().Endpoint(e => e.Name = ProposalSubmittedConsumer.Queue);
            x.AddConsumer<ProposalStateChangedConsumer>().Endpoint(e => e.Name = ProposalStateChangedConsumer.Queue);
        });
        builder.AddOutboxRelay();

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<GraphStore>();
        builder.Services.AddSingleton<GraphSnapshotCache>();
        builder.Services.AddSingleton<DeploymentStore>();
        builder.Services.Configure<DeploymentOptions>(builder.Configuration.GetSection(DeploymentOptions.Section));
        // After the migration host (AddServiceDatabase puts it first), so the tables exist.
        builder.Services.AddHostedService<GraphSeeder>();
        builder.Services.AddHostedService<CatalogSeeder>();
    }
}
