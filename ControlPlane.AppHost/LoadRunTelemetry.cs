using System.Globalization;

namespace ControlPlane.AppHost;

/// <summary>
/// Telemetry settings for load runs (README "Load"). Aspire asks every project for all of its traces (always_on) and for
/// its metrics every second; on two cores the dashboard ingesting them costs CPU the plane would otherwise use, idle or
/// not. Unset, Aspire's settings stand.
/// </summary>
public static class LoadRunTelemetry
{
    /// <summary>./run.sh TRACE_SAMPLE_RATIO=0.1: keep that share of traces, parent-based so a trace is kept or dropped whole.</summary>
    public const string TraceSampleRatioKey = "ControlPlane:TraceSampleRatio";

    /// <summary>./run.sh METRIC_EXPORT_SECONDS=10: how often each project exports its metrics.</summary>
    public const string MetricExportSecondsKey = "ControlPlane:MetricExportSeconds";

    public static void Apply(IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (builder.Configuration[TraceSampleRatioKey] is { Length: > 0 } sampleRatio)
        {
            // The SDK would quietly fall back to every trace on a value it cannot read; say so instead.
            if (!double.TryParse(sampleRatio, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) || ratio is < 0 or > 1)
            {
                throw new InvalidOperationException($"{TraceSampleRatioKey} (TRACE_SAMPLE_RATIO) must be a number from 0 to 1, such as 0.1; got '{sampleRatio}'.");
            }

            environment["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio";
            environment["OTEL_TRACES_SAMPLER_ARG"] = ratio.ToString(CultureInfo.InvariantCulture);
        }

        if (builder.Configuration[MetricExportSecondsKey] is { Length: > 0 } exportSeconds)
        {
            if (!int.TryParse(exportSeconds, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds is < 1 or > 3600)
            {
                throw new InvalidOperationException($"{MetricExportSecondsKey} (METRIC_EXPORT_SECONDS) must be whole seconds from 1 to 3600, such as 10; got '{exportSeconds}'.");
            }

            environment["OTEL_METRIC_EXPORT_INTERVAL"] = (seconds * 1000).ToString(CultureInfo.InvariantCulture); // milliseconds
        }

        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            var resource = builder.CreateResourceBuilder(project);
            foreach (var (name, value) in environment)
            {
                resource.WithEnvironment(name, value);
            }
        }
    }
}
