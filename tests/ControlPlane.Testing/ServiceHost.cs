using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Testing;

/// <summary>
/// Runs one ControlPlane service in the test process on a real Kestrel port, configured with the same keys the
/// AppHost and ./run.sh inject (ConnectionStrings__*, services__*__http__0, …), so services talk to each other
/// over real HTTP and the real bus.
/// </summary>
public sealed class ServiceHost<TEntryPoint> : WebApplicationFactory<TEntryPoint> where TEntryPoint : class
{
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly string _environment;
    private readonly Action<IServiceCollection>? _configureServices;
    private IHost? _host;

    public ServiceHost(IReadOnlyDictionary<string, string?> settings, string environment = "Development", Action<IServiceCollection>? configureServices = null, int port = 0)
    {
        _settings = settings;
        _environment = environment;
        _configureServices = configureServices;
        UseKestrel(port);
    }

    /// <summary>The http://127.0.0.1:port/ address the service listens on (starts it on first use).</summary>
    public Uri BaseAddress
    {
        get
        {
            StartServer();
            var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/");
        }
    }

    /// <summary>A plain client on the real port (no test-server handler), optionally with a bearer token.</summary>
    public HttpClient CreateHttpClient(string? bearerToken = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (bearerToken is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", bearerToken);
        }

        return client;
    }

    /// <summary>
    /// Stops the service. MassTransit starts the bus in the background; stopped before that start has finished, the bus
    /// can finish starting afterwards and leave a consumer on the queue that takes messages no one records. So a
    /// host stopped soon after it started first waits (briefly) for its bus.
    /// </summary>
    public override async ValueTask DisposeAsync()
    {
        if (_host?.Services.GetService<IBusControl>() is { } bus)
        {
            try
            {
                await bus.WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(15));
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
            {
                // A broker that is down (a fault test) never lets the bus start: nothing to wait for.
            }
        }

        await base.DisposeAsync();
    }

    protected override IHost CreateHost(IHostBuilder builder)
    {
        _host = base.CreateHost(builder);
        return _host;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Warning);
            logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Error);
        });
        if (_configureServices is not null)
        {
            builder.ConfigureServices(_configureServices);
        }
    }
}
