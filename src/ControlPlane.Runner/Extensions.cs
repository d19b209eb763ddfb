using ControlPlane.Contracts;
using ControlPlane.Runner.Actions;
using ControlPlane.Runner.Consumers;
using ControlPlane.Runner.FleetLink;
using ControlPlane.Runner.Reporting;
using ControlPlane.Runner.Verification;
using ControlPlane.ServiceDefaults.Health;
using ControlPlane.ServiceDefaults.Http;
using ControlPlane.ServiceDefaults.Messaging;
using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ControlPlane.Runner;

internal static class Extensions
{
    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        var options = RunnerConfiguration.Load(builder.Configuration, builder.Environment.ContentRootPath);
        builder.Services.AddSingleton(options);
        StateFiles.EnsureDirectory(options.StateDirectory!); // before anything creates a subfolder with looser rights
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(_ => RunnerKey.LoadOrCreate(options.StateDirectory!));
        builder.Services.AddSingleton(_ => RunnerAgreementKey.LoadOrCreate(options.StateDirectory!));

        builder.Services.AddServiceClient(FleetTokenClient.HttpClientName);
        builder.Services.AddServiceClient(FleetClient.HttpClientName);
        builder.Services.AddSingleton<FleetTokenClient>();
        builder.Services.AddSingleton<FleetClient>();
        builder.Services.AddSingleton<FleetKeyCache>();
        builder.Services.AddSingleton<ReplayStore>();
        builder.Services.AddSingleton<PackageVerifier>();
        builder.Services.AddSingleton<WorkExecutor>();

        // Only the configured actions get a handler; a package for anything else is refused.
        if (options.Actions.RunCommand.Commands.Count > 0)
        {
            builder.Services.AddSingleton<IActionHandler, RunCommandHandler>();
        }

        if (options.Actions.HttpCheck.Enabled)
        {
            builder.Services.AddSingleton<IActionHandler, HttpCheckHandler>();
        }

        builder.Services.AddSingleton<ReportOutbox>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReportOutbox>());
        builder.Services.AddSingleton<RunnerAgent>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RunnerAgent>());
        builder.Services.AddHealthChecks().AddReadinessCheck<RunnerAgent>("fleet-registration");

        builder.AddControlPlaneBus(x => x.AddConsumer<DeliverWorkPackageConsumer>().Endpoint(e =>
        {
            e.Name = DeliverWorkPackage.QueueFor(options.Id);
            // Only fleet's direct sends reach this queue: a published DeliverWorkPackage must not fan out to every runner.
            e.ConfigureConsumeTopology = false;
            e.ConcurrentMessageLimit = options.MaxConcurrentWork;
            e.PrefetchCount = options.MaxConcurrentWork;
        }));
    }
}
