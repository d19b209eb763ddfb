using System.Text.Json;
using ControlPlane.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace ControlPlane.ServiceDefaults.Health;

/// <summary>
/// /alive says the process runs (liveness); /health says it can do its work (readiness: its database, the
/// broker, Redis where used). Both are anonymous and mapped in every environment because probes need them.
/// </summary>
public static class HealthExtensions
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>Registers a readiness check with a short timeout so a hung dependency cannot hang the probe.</summary>
    public static IHealthChecksBuilder AddReadinessCheck<T>(this IHealthChecksBuilder checks, string name)
        where T : class, IHealthCheck =>
        checks.Add(new HealthCheckRegistration(
            name, sp => ActivatorUtilities.GetServiceOrCreateInstance<T>(sp), HealthStatus.Unhealthy, [ReadyTag], TimeSpan.FromSeconds(3)));

    public static WebApplication MapHealthEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthPaths.Ready, new HealthCheckOptions
        {
            // MassTransit registers its bus check with the "ready" tag, so the broker is covered too.
            Predicate = r => r.Tags.Contains(ReadyTag),
            ResponseWriter = WriteJson,
        }).AllowAnonymous().WithMetadata(new AnonymousByDesign("readiness probe"));

        app.MapHealthChecks(HealthPaths.Alive, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(LiveTag),
            ResponseWriter = WriteJson,
        }).AllowAnonymous().WithMetadata(new AnonymousByDesign("liveness probe"));
        return app;
    }

    // Names and states only: exception texts can carry host names or credentials and stay in the logs.
    private static Task WriteJson(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            durationMs = Math.Round(report.TotalDuration.TotalMilliseconds, 1),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        };
        return JsonSerializer.SerializeAsync(context.Response.Body, body, HealthJson.Options, context.RequestAborted);
    }

    private static class HealthJson
    {
        public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
    }
}

/// <summary>Marks an endpoint that is anonymous on purpose (health, discovery, JWKS, token); the endpoint audit test reads it.</summary>
public sealed record AnonymousByDesign(string Reason);
