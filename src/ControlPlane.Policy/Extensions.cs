using ControlPlane.Policy.Bundles;
using ControlPlane.Policy.Consumers;
using ControlPlane.Policy.Data;
using ControlPlane.Policy.Simulation;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Messaging;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ControlPlane.Policy;

internal static class Extensions
{
    public const string DatabaseName = "policy-db";

    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.AddServiceDatabase(DatabaseName, typeof(Extensions).Assembly);
        // Queue names carry the service name: other services consume the same events on queues of their own.
        builder.AddControlPlaneBus(x =>
        {
            x.AddConsumer<ImpactAssessedConsumer>().Endpoint(e => e.Name = ImpactAssessedConsumer.Queue);
            x.AddConsumer<PrincipalChangedConsumer>().Endpoint(e => e.Name = PrincipalChangedConsumer.Queue);
            x.AddConsumer<AgentRevokedConsumer>().Endpoint(e => e.Name = AgentRevokedConsumer.Queue);
            x.AddConsumer<FleetCapabilitiesChangedConsumer>().Endpoint(e => e.Name = FleetCapabilitiesChangedConsumer.Queue);
            x.AddConsumer<ActionCatalogPublishedConsumer>().Endpoint(e => e.Name = ActionCatalogPublishedConsumer.Queue);
            x.AddConsumer<TrackRecordProposalSubmittedConsumer>().Endpoint(e => e.Name = TrackRecordProposalSubmittedConsumer.Queue);
            x.AddConsumer<TrackRecordStateChangedConsumer>().Endpoint(e => e.Name = TrackRecordStateChangedConsumer.Queue);
            x.AddConsumer<TrackRecordRollbackConsumer>().Endpoint(e => e.Name = TrackRecordRollbackConsumer.Queue);
        });
        builder.AddOutboxRelay();

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<PolicyStore>();
        builder.Services.AddSingleton<ActivePolicyCache>();
        builder.Services.AddSingleton<AgentProjections>();
        builder.Services.AddSingleton<TrackRecordStore>();
        builder.AddPolicySimulation();
        // After the migration host (AddServiceDatabase puts it first), so the tables exist.
        builder.Services.AddHostedService<DefaultBundleActivation>();
    }
}
