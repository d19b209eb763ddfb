using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.ServiceDefaults.Security;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ControlPlane.ServiceDefaults.Tests.Messaging;

/// <summary>Every replica of every service on one broker learns of a revocation, not just the first to bind.</summary>
public sealed class RevocationFeedTests : IAsyncLifetime
{
    private TestVirtualHost _vhost = null!;
    private readonly List<IHost> _hosts = [];

    public async ValueTask InitializeAsync()
    {
        _vhost = await TestVirtualHost.CreateAsync("revocations");
        foreach (var name in new[] { "ControlPlane.Policy", "ControlPlane.Policy", "ControlPlane.Fleet" })
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = name });
            builder.Configuration.AddInMemoryCollection(new PlaneSettings(_vhost, PlaneSettings.NewRedisPrefix()).Build());
            builder.Services.AddSingleton<RevocationList>();
            builder.AddControlPlaneBus();
            var host = builder.Build();
            await host.StartAsync();
            await host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(30));
            _hosts.Add(host);
        }
    }

    [Fact]
    public async Task A_revocation_reaches_every_replica_of_every_service()
    {
        var revokedAt = DateTimeOffset.UtcNow;
        await _hosts[0].Services.GetRequiredService<IBus>().Publish(new PrincipalRevoked("rogue-agent", null, "compromised", "ada@example.com", revokedAt));

        foreach (var host in _hosts)
        {
            var list = host.Services.GetRequiredService<RevocationList>();
            await Eventually.UntilAsync(async () => await list.IsRevokedAsync("rogue-agent", revokedAt.AddMinutes(-1), default), TimeSpan.FromSeconds(20), "the revocation in every replica");
            Assert.False(await list.IsRevokedAsync("rogue-agent", revokedAt.AddMinutes(1), default)); // tokens issued after it are fine
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.StopAsync();
            host.Dispose();
        }

        await _vhost.DisposeAsync();
    }
}
