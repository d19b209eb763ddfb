using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ControlPlane.ServiceDefaults.Tests.Messaging;

/// <summary>A host with the shared bus wiring on a test vhost, started and healthy, for tests of that wiring.</summary>
internal static class BusTestHost
{
    public static async Task<IHost> StartAsync(TestVirtualHost vhost, Action<IBusRegistrationConfigurator> consumers)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new PlaneSettings(vhost, PlaneSettings.NewRedisPrefix()).Build());
        builder.AddControlPlaneBus(consumers);
        var host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(30));
        return host;
    }
}
