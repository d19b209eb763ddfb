using ControlPlane.Orchestrator.AgentNotifications;
using ControlPlane.Orchestrator.Consumers;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Itsm;
using ControlPlane.Orchestrator.Integrations.GitHub;
using ControlPlane.Orchestrator.Lifecycle;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.ServiceDefaults.Security.RateLimiting;
using ControlPlane.Orchestrator.Scheduling;
using ControlPlane.Orchestrator.Timers;
using ControlPlane.ServiceDefaults.Caching;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Messaging;
using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace ControlPlane.Orchestrator;

internal static class Extensions
{
    public const string DatabaseName = "orchestrator-db";

    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.AddServiceDatabase(DatabaseName, typeof(Extensions).Assembly);
        builder.AddControlPlaneBus(x =>
        {
            // Queue names carry the service name: other services consume the same events into their own queues.
            x.AddConsumer<SubmitProposalConsumer>().Endpoint(e => e.Name = SubmitProposalConsumer.Queue);
            x.AddConsumer<ImpactAssessedConsumer>().Endpoint(e => e.Name = ImpactAssessedConsumer.Queue);
            x.AddConsumer<PolicyDecidedConsumer>().Endpoint(e => e.Name = PolicyDecidedConsumer.Queue);
            x.AddConsumer<WorkCompletedConsumer>().Endpoint(e => e.Name = WorkCompletedConsumer.Queue);
            x.AddConsumer<WorkRefusedConsumer>().Endpoint(e => e.Name = WorkRefusedConsumer.Queue);
            x.AddConsumer<WorkAcknowledgedConsumer>().Endpoint(e => e.Name = WorkAcknowledgedConsumer.Queue);
            x.AddConsumer<ChangeRequestConsumer>().Endpoint(e => e.Name = ChangeRequestConsumer.Queue);
            x.AddConsumer<CommitStatusConsumer>().Endpoint(e =>
            {
                e.Name = CommitStatusConsumer.Queue;
                e.ConcurrentMessageLimit = 1; // statuses of one commit must not overtake each other
            });
            // Agents outside .NET publish the bare SubmitProposal as application/json (docs/asyncapi.yaml); the
            // MassTransit envelope stays accepted beside it. Only the message type is relaxed (raw JSON names none):
            // transport headers are never copied onward, so the agent token stays on the message it came with.
            x.AddConfigureEndpointsCallback((_, name, e) =>
            {
                if (name == SubmitProposalConsumer.Queue)
                {
                    e.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType);
                    // A refused submission is readable in _error by anyone with broker management access.
                    e.RemoveSecretHeadersBeforeError(ControlPlane.Contracts.MessageHeaders.AgentToken);
                }
            });
        });
        builder.AddOutboxRelay();
        builder.AddRedisCache();
        // Redis down must not take orchestrator out of service: intake keeps working (nothing new is scheduled),
        // so the cache check reports Degraded (still HTTP 200 on /health) instead of Unhealthy.
        builder.Services.PostConfigure<HealthCheckServiceOptions>(o =>
        {
            foreach (var check in o.Registrations.Where(r => r.Name == "cache"))
            {
                var inner = check.Factory;
                check.Factory = sp => new DegradedWhenUnhealthy(inner(sp));
                check.FailureStatus = HealthStatus.Degraded;
            }
        });

        builder.Services.Configure<OrchestratorOptions>(builder.Configuration.GetSection(OrchestratorOptions.Section));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new SubmissionValidator(sp.GetRequiredService<IOptions<OrchestratorOptions>>().Value.EffectiveEnvironments));
        builder.AddRedisRateLimiter();
        builder.Services.AddSingleton<ProposalIntake>();
        builder.Services.AddSingleton<LifecycleEffects>();
        builder.Services.AddSingleton<ProposalLifecycle>();
        builder.Services.AddSingleton<ProposalCommands>();
        builder.Services.AddSingleton<ProposalQueries>();
        builder.Services.AddSingleton<TimerHandlers>();
        builder.Services.AddSingleton<WorkResults>();
        builder.Services.AddSingleton(sp => new ActionCatalog(sp.GetRequiredService<IOptions<OrchestratorOptions>>().Value));
        builder.Services.AddSingleton<IFencingFloors, FencingFloors>();
        builder.Services.AddSingleton<TargetLeases>();
        builder.Services.AddSingleton<SchedulerSignal>();
        builder.Services.AddSingleton<SchedulerStatus>();
        builder.Services.AddSingleton<KillSwitchStore>();
        builder.Services.AddSingleton<ChangeWindowStore>();
        builder.Services.AddHttpClient(WindowDependents.HttpClientName, http => http.Timeout = WindowDependents.Timeout);
        builder.Services.AddSingleton<WindowDependents>();
        builder.Services.Configure<GitHubOptions>(builder.Configuration.GetSection(GitHubOptions.Section));
        builder.Services.AddHttpClient<GitHubStatusClient>(GitHubStatusClient.HttpClientName);
        builder.Services.AddHostedService<TimerPoller>();
        builder.Services.AddHostedService<Scheduler>();
        builder.Services.AddHostedService<ActionCatalogAnnouncer>();
        builder.AddServiceNowIntegration();
        builder.AddAgentNotifications();
    }
}

/// <summary>Reports a dependency orchestrator can work without as Degraded rather than Unhealthy.</summary>
internal sealed class DegradedWhenUnhealthy(IHealthCheck inner) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var result = await inner.CheckHealthAsync(context, cancellationToken);
        return result.Status == HealthStatus.Unhealthy ? HealthCheckResult.Degraded(result.Description, result.Exception, result.Data) : result;
    }
}
