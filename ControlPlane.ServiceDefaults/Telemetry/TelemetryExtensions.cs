using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace ControlPlane.ServiceDefaults.Telemetry;

/// <summary>
/// OpenTelemetry as eShop's ServiceDefaults set it up: logs with scopes, ASP.NET Core, HttpClient, runtime, Npgsql
/// and MassTransit instrumentation plus the plane's own sources and meters, exported over OTLP (the Aspire dashboard,
/// or any collector) when OTEL_EXPORTER_OTLP_ENDPOINT is set. OTEL_SERVICE_NAME names the service.
/// </summary>
public static class TelemetryExtensions
{
    public static readonly string[] ActivitySources = ["MassTransit", ControlPlaneTelemetry.SourcePrefix + "*"];

    public static readonly string[] Meters = ["Microsoft.AspNetCore.Server.Kestrel", "Npgsql", "MassTransit", ControlPlaneTelemetry.SourcePrefix + "*"];

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // .NET 10 leaves http.route / status tags off request spans unless this switch is false.
        AppContext.SetSwitch("Microsoft.AspNetCore.Hosting.SuppressActivityOpenTelemetryData", false);

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(Meters))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(ActivitySources)
                // Probes are called every few seconds by Kubernetes and the AppHost: their spans would bury the rest.
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !HealthPaths.IsProbe(context.Request.Path))
                .AddHttpClientInstrumentation(o => o.FilterHttpRequestMessage = request => !HealthPaths.IsProbe(request.RequestUri?.AbsolutePath ?? string.Empty))
                .AddNpgsql());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            // Reads OTEL_EXPORTER_OTLP_ENDPOINT / _PROTOCOL / _HEADERS as the AppHost or a collector sets them.
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }
}

public static class HealthPaths
{
    public const string Ready = "/health";
    public const string Alive = "/alive";

    public static bool IsProbe(PathString path) => IsProbe(path.Value ?? string.Empty);

    public static bool IsProbe(string path) =>
        path.Equals(Ready, StringComparison.OrdinalIgnoreCase) || path.Equals(Alive, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Names of the plane's own sources and meters; each service adds one source under this prefix.</summary>
public static class ControlPlaneTelemetry
{
    public const string SourcePrefix = "ControlPlane.";

    public static ActivitySource CreateSource(string service) => new(SourcePrefix + service);
}
