using ControlPlane.Evidence.Autonomy;
using ControlPlane.Evidence.Consumers;
using ControlPlane.Evidence.Data;
using ControlPlane.Evidence.Recording;
using ControlPlane.Evidence.Redaction;
using ControlPlane.Evidence.Signing;
using ControlPlane.Evidence.Transparency;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ControlPlane.Evidence;

internal static class Extensions
{
    public const string DatabaseName = "evidence-db";

    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.AddServiceDatabase(DatabaseName, typeof(Extensions).Assembly);
        var concurrency = builder.Configuration.GetValue("Evidence:ConsumerConcurrency", EvidenceConsumerSettings.DefaultConcurrency);
        builder.AddControlPlaneBus(x =>
        {
            foreach (var kind in EvidenceKinds.All)
            {
                kind.Register(x, concurrency);
            }
        });
        builder.AddOutboxRelay();

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(KeyProtector.FromConfiguration(builder.Configuration, builder.Environment, "Evidence:KeyEncryptionKey", "evidence-signing-keys"));
        builder.Services.AddSingleton<EvidenceKeyStore>();
        builder.Services.AddSingleton<EvidenceLog>();
        builder.Services.AddSingleton<EvidenceStore>();
        builder.Services.AddSingleton<BundleDisclosures>();
        builder.Services.AddSingleton<AutonomyStore>();
        builder.Services.AddSingleton<ChainStatusCache>();
        builder.Services.AddHostedService<AutonomyMeter>();
        builder.Services.AddHostedService<EvidenceKeyStartup>();
        builder.Services.AddSingleton<EvidenceTree>();
        builder.Services.AddSingleton<CheckpointLog>();
        builder.Services.AddSingleton<WitnessClient>();
        builder.Services.AddHostedService<CheckpointPublisher>();
        builder.Services.AddExceptionHandler<LogRewrittenHandler>(); // 409 wherever a read finds the log rewritten
    }
}
