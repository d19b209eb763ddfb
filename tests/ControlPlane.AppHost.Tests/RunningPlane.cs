using System.Security.Cryptography;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using ControlPlane.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.AppHost.Tests;

/// <summary>
/// The whole plane booted through the AppHost with Aspire.Hosting.Testing, local servers (no container resource),
/// the dashboard on, its own ports (52xx), its own vhost and databases, so it runs beside a ./run.sh plane.
/// </summary>
public sealed class RunningPlane : IAsyncLifetime
{
    public static readonly IReadOnlyDictionary<string, int> Ports = new Dictionary<string, int>
    {
        ["identity"] = 5201, ["system-graph"] = 5202, ["policy"] = 5203, ["orchestrator"] = 5204,
        ["fleet"] = 5205, ["evidence"] = 5206, ["console"] = 5207, ["witness"] = 5208, ["runner-testing-1"] = 5210, ["runner-remediation-1"] = 5211,
    };

    public static readonly Uri Dashboard = new("http://127.0.0.1:18988");

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(6);

    private TestVirtualHost _vhost = null!;
    private DistributedApplication _app = null!;

    public string RunnerStates { get; } = Path.Combine(Path.GetTempPath(), $"cpt-apphost-runners-{Guid.NewGuid():N}");

    public static IEnumerable<string> Resources => Ports.Keys;

    public static Uri Address(string service) => new($"http://127.0.0.1:{Ports[service]}/");

    public async ValueTask InitializeAsync()
    {
        await TestServers.RequireAsync("PostgreSQL", "127.0.0.1", 5432);
        await TestServers.RequireAsync("Redis", "127.0.0.1", 6379);
        _vhost = await TestVirtualHost.CreateAsync("apphost");
        string Secret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        string[] args =
        [
            "--ControlPlane:Servers=local",
            $"--ControlPlane:LocalServers:Messaging={_vhost.ConnectionString}",
            $"--ControlPlane:LocalServers:Postgres={TestServers.PostgresHost}",
            $"--ControlPlane:LocalServers:DatabasePrefix=cpt_apphost_{Guid.NewGuid().ToString("N")[..8]}_",
            $"--ControlPlane:RunnerStateRoot={RunnerStates}",
            $"--ControlPlane:WitnessDataDirectory={Path.Combine(RunnerStates, "witness")}",
            $"--Parameters:identity-key-encryption-key={Secret()}",
            $"--Parameters:fleet-key-encryption-key={Secret()}",
            $"--Parameters:evidence-key-encryption-key={Secret()}",
            $"--Parameters:orchestrator-key-encryption-key={Secret()}",
            $"--ASPNETCORE_URLS={Dashboard}",
            "--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://127.0.0.1:18989",
            "--ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL=http://127.0.0.1:18990",
            "--ASPIRE_ALLOW_UNSECURED_TRANSPORT=true",
            "--ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true",
            // The testing builder moves proxied endpoints (the dashboard's) to random ports; this plane has its own.
            "--DcpPublisher:RandomizePorts=false",
            .. Ports.Select(p => $"--ControlPlane:Ports:{p.Key}={p.Value}"),
        ];

        using var cts = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.ControlPlane_AppHost>(
            args, (options, _) => options.DisableDashboard = false, cts.Token);
        _app = await builder.BuildAsync(cts.Token);
        await _app.StartAsync(cts.Token);
        try
        {
            foreach (var name in Resources)
            {
                await _app.ResourceNotifications.WaitForResourceHealthyAsync(name, cts.Token);
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Not every resource became healthy within {StartTimeout.TotalMinutes} min: " + await StatesAsync());
        }
    }

    /// <summary>Each resource's state and health as the AppHost sees them (for failure messages).</summary>
    public Task<string> StatesAsync()
    {
        var model = _app.Services.GetRequiredService<DistributedApplicationModel>();
        var states = model.Resources.Select(r => _app.ResourceNotifications.TryGetCurrentState(r.Name, out var e)
            ? $"{r.Name}={e.Snapshot.State?.Text}/{e.Snapshot.HealthStatus}"
            : $"{r.Name}=?");
        return Task.FromResult(string.Join(", ", states));
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (_vhost is not null)
        {
            await _vhost.DisposeAsync();
        }

        if (Directory.Exists(RunnerStates))
        {
            Directory.Delete(RunnerStates, recursive: true);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class RunningPlaneCollection : ICollectionFixture<RunningPlane>
{
    public const string Name = "running plane";
}
