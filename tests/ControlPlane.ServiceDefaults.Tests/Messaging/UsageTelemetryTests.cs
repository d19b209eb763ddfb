using ControlPlane.ServiceDefaults.Messaging;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.ServiceDefaults.Tests.Messaging;

/// <summary>A service's bus sends MassTransit's usage report nowhere: the plane talks to its own servers only.</summary>
public sealed class UsageTelemetryTests
{
    [Fact]
    public void Every_services_bus_has_masstransits_usage_telemetry_off()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{BusExtensions.ConnectionName}"] = "amqp://guest:guest@127.0.0.1:5672/",
        });
        builder.AddControlPlaneBus();
        using var services = builder.Services.BuildServiceProvider();

        Assert.False(services.GetRequiredService<IOptions<UsageTelemetryOptions>>().Value.Enabled);
    }
}
