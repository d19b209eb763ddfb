using System.Diagnostics;
using System.Diagnostics.Metrics;
using ControlPlane.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace ControlPlane.ServiceDefaults.Tests.Telemetry;

/// <summary>The OpenTelemetry setup every service gets, read back through the in-memory exporter.</summary>
public sealed class TelemetryTests
{
    [Fact]
    public async Task Request_spans_carry_the_route_and_status_and_probes_are_not_traced()
    {
        var spans = new List<Activity>();
        await using var app = await StartAsync(services => services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans)));
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        (await client.GetAsync("/health")).Dispose();
        (await client.GetAsync("/alive")).Dispose();
        (await client.GetAsync("/items/42")).Dispose();
        await app.StopAsync();

        // The ASP.NET Core activity source is process-wide: other test classes' hosts (running in parallel) end up in
        // this exporter too, so only this host's requests count; and they keep arriving, so read a copy (ToArray does
        // not check for changes the way enumerating the list does).
        var port = new Uri(app.Urls.First()).Port;
        var server = Assert.Single(spans.ToArray(), s => s.Kind == ActivityKind.Server && Equals(s.GetTagItem("server.port"), port));
        Assert.Equal("/items/{id}", server.GetTagItem("http.route"));
        Assert.Equal(200, server.GetTagItem("http.response.status_code"));
    }

    [Fact]
    public async Task The_planes_own_meters_are_exported_with_their_units()
    {
        var metrics = new List<Metric>();
        await using var app = await StartAsync(services => services.ConfigureOpenTelemetryMeterProvider(m => m.AddInMemoryExporter(metrics)));
        using var meter = new Meter(ControlPlaneTelemetry.SourcePrefix + "Test");
        var decisions = meter.CreateCounter<long>("controlplane.test.decisions", "{decision}", "Decisions made by the test");

        decisions.Add(3);
        app.Services.GetRequiredService<MeterProvider>().ForceFlush();

        var exported = Assert.Single(metrics, m => m.Name == "controlplane.test.decisions");
        Assert.Equal("{decision}", exported.Unit);
        Assert.Equal("Decisions made by the test", exported.Description);
    }

    private static async Task<WebApplication> StartAsync(Action<IServiceCollection> configure)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.ConfigureOpenTelemetry();
        builder.Services.AddHealthChecks();
        configure(builder.Services);
        var app = builder.Build();
        app.MapHealthChecks(HealthPaths.Ready);
        app.MapHealthChecks(HealthPaths.Alive);
        app.MapGet("/items/{id}", (string id) => Results.Ok(id));
        await app.StartAsync();
        return app;
    }
}
