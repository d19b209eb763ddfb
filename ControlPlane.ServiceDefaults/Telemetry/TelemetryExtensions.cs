using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ControlPlane.ServiceDefaults.Telemetry;

/// <summary>
/// OpenTelemetry with the core SDK only (the hosting and instrumentation packages are not served here):
/// the platform's built-in sources and meters, exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
/// </summary>
public static class TelemetryExtensions
{
    public static readonly string[] ActivitySources =
        ["Microsoft.AspNetCore", "System.Net.Http", "Npgsql", "MassTransit", ControlPlaneTelemetry.SourcePrefix + "*"];

    public static readonly string[] Meters =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "System.Runtime",
        "Npgsql", "MassTransit", ControlPlaneTelemetry.SourcePrefix + "*",
    ];

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // .NET 10 leaves http.route / status tags off request spans unless this switch is false.
        AppContext.SetSwitch("Microsoft.AspNetCore.Hosting.SuppressActivityOpenTelemetryData", false);

        var endpoint = builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return builder; // No collector configured: no exporter, no overhead.
        }

        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] ?? builder.Environment.ApplicationName;
        var protocol = ParseProtocol(builder.Configuration["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        void ConfigureExporter(OtlpExporterOptions o)
        {
            o.Endpoint = new Uri(endpoint);
            o.Protocol = protocol;
        }

        var resource = ResourceBuilder.CreateDefault().AddService(serviceName, serviceInstanceId: Environment.MachineName);

        builder.Logging.AddOpenTelemetry(o =>
        {
            o.SetResourceBuilder(resource);
            o.IncludeFormattedMessage = true;
            o.IncludeScopes = true;
            o.AddOtlpExporter(ConfigureExporter);
        });

        builder.Services.AddSingleton(_ => Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .SetSampler(new HealthProbeSampler(new ParentBasedSampler(new AlwaysOnSampler())))
            .AddSource(ActivitySources)
            .AddOtlpExporter(ConfigureExporter)
            .Build());
        builder.Services.AddSingleton(_ => Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(Meters)
            .AddOtlpExporter(ConfigureExporter)
            .Build());
        builder.Services.AddHostedService<TelemetryProvidersHost>();
        return builder;
    }

    private static OtlpExportProtocol ParseProtocol(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
        _ => OtlpExportProtocol.Grpc,
    };

    /// <summary>Resolves the providers at start (so spans are recorded from the first request); DI disposes them, flushing.</summary>
    private sealed class TelemetryProvidersHost(TracerProvider tracing, MeterProvider metrics) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            GC.KeepAlive(tracing);
            GC.KeepAlive(metrics);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            tracing.ForceFlush(2000);
            metrics.ForceFlush(2000);
            return Task.CompletedTask;
        }
    }
}

/// <summary>Drops spans of probe requests (/health, /alive): Kubernetes calls them every few seconds.</summary>
public sealed class HealthProbeSampler(Sampler inner) : Sampler
{
    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        if (samplingParameters.Tags is not null)
        {
            foreach (var tag in samplingParameters.Tags)
            {
                if (tag.Key == "url.path" && tag.Value is string path && HealthPaths.IsProbe(path))
                {
                    return new SamplingResult(SamplingDecision.Drop);
                }
            }
        }

        return inner.ShouldSample(samplingParameters);
    }
}

public static class HealthPaths
{
    public const string Ready = "/health";
    public const string Alive = "/alive";

    public static bool IsProbe(string path) =>
        path.Equals(Ready, StringComparison.OrdinalIgnoreCase) || path.Equals(Alive, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Names of the plane's own sources and meters; each service adds one source under this prefix.</summary>
public static class ControlPlaneTelemetry
{
    public const string SourcePrefix = "ControlPlane.";

    public static ActivitySource CreateSource(string service) => new(SourcePrefix + service);
}
