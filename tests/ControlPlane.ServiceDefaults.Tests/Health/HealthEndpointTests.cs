using System.Net;
using System.Text.Json;
using ControlPlane.Testing;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ControlPlane.ServiceDefaults.Tests.Health;

/// <summary>/health and /alive of every service against the real servers; /health, and what a request gets, when the database goes away.</summary>
public sealed class HealthEndpointTests
{
    public static TheoryData<string> Services => ["identity", "system-graph", "policy", "orchestrator", "fleet", "evidence"];

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Each_service_starts_and_reports_healthy_with_its_dependencies(string service)
    {
        await using var db = await TestDatabase.CreateAsync(service);
        await using var vhost = await TestVirtualHost.CreateAsync("health");
        await using var host = Host(service, Settings(vhost, service, db.ConnectionString));
        using var http = new HttpClient { BaseAddress = BaseAddress(host) };

        var report = await Eventually.UntilAsync(() => ReadHealthAsync(http, "health"), r => r.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(30), $"{service} /health");
        var alive = await ReadHealthAsync(http, "alive");

        Assert.Equal("Healthy", report.Body.GetProperty("status").GetString());
        var checks = report.Body.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("Healthy", checks.GetProperty("masstransit-bus").GetProperty("status").GetString());
        if (service == "orchestrator")
        {
            Assert.Equal("Healthy", checks.GetProperty("cache").GetProperty("status").GetString());
        }

        Assert.Equal(HttpStatusCode.OK, alive.Status);
    }

    [Fact]
    public async Task Health_turns_unhealthy_when_the_database_is_unreachable_and_recovers_when_it_returns()
    {
        await using var service = await BehindProxy.StartAsync("policy");
        var (proxy, http) = (service.Proxy, service.Http);

        proxy.Stop();
        var down = await Eventually.UntilAsync(() => ReadHealthAsync(http, "health"), r => r.Status == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(20), "unhealthy during the outage");
        var aliveDuringOutage = await ReadHealthAsync(http, "alive");

        proxy.Start();
        await Eventually.UntilAsync(() => ReadHealthAsync(http, "health"), r => r.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "healthy after the outage");

        Assert.Equal("Unhealthy", down.Body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("database unreachable", down.Body.GetProperty("checks").GetProperty("database").GetProperty("description").GetString());
        Assert.Equal(HttpStatusCode.OK, aliveDuringOutage.Status); // the process is fine: do not restart it
    }

    [Fact]
    public async Task A_request_during_a_database_outage_is_503_with_retry_after_and_answered_again_after_it()
    {
        await using var service = await BehindProxy.StartAsync("identity");
        var (proxy, http) = (service.Proxy, service.Http);
        // The token endpoint reads the client's credential from the database; an unknown client is an ordinary 401 (invalid_client).
        async Task<(HttpStatusCode Status, string? RetryAfter, string Body)> AskForTokenAsync()
        {
            using var form = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["audience"] = "policy",
                ["client_id"] = "outage-probe",
                ["client_secret"] = "not-a-secret-of-anyone",
            });
            using var response = await http.PostAsync("connect/token", form);
            return (response.StatusCode, response.Headers.RetryAfter?.ToString(), await response.Content.ReadAsStringAsync());
        }

        var before = await AskForTokenAsync();
        proxy.Stop();
        var during = await AskForTokenAsync();
        proxy.Start();
        var after = await Eventually.UntilAsync(AskForTokenAsync, r => r.Status != HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30), "answered after the outage");

        Assert.Equal(HttpStatusCode.Unauthorized, before.Status);
        Assert.Contains("invalid_client", before.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, during.Status);
        Assert.Equal("2", during.RetryAfter);
        using var problem = JsonDocument.Parse(during.Body);
        Assert.Equal("Temporarily unavailable", problem.RootElement.GetProperty("title").GetString());
        Assert.True(problem.RootElement.TryGetProperty("traceId", out _));
        Assert.Equal((before.Status, before.Body), (after.Status, after.Body));
    }

    /// <summary>A service whose database connection runs through a TCP proxy the test can cut, started and healthy.</summary>
    private sealed class BehindProxy : IAsyncDisposable
    {
        private readonly List<IAsyncDisposable> _owned = [];

        public TcpProxy Proxy { get; } = new("127.0.0.1", 5432);

        public HttpClient Http { get; private set; } = null!;

        public static async Task<BehindProxy> StartAsync(string service)
        {
            var started = new BehindProxy();
            try
            {
                var db = await TestDatabase.CreateAsync(service);
                started._owned.Add(db);
                var vhost = await TestVirtualHost.CreateAsync("health");
                started._owned.Add(vhost);
                started._owned.Add(started.Proxy);
                started.Proxy.Start();
                var viaProxy = $"Host=127.0.0.1;Port={started.Proxy.Port};Username=postgres;Database={db.Name};Timeout=3;Command Timeout=3";
                var host = Host(service, Settings(vhost, service, viaProxy));
                started._owned.Add(host);
                started.Http = new HttpClient { BaseAddress = BaseAddress(host) };
                await Eventually.UntilAsync(() => ReadHealthAsync(started.Http, "health"), r => r.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "healthy before the outage");
                return started;
            }
            catch
            {
                await started.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            Http?.Dispose();
            for (var i = _owned.Count - 1; i >= 0; i--)
            {
                await _owned[i].DisposeAsync(); // the host first, then the proxy, the vhost and the database
            }
        }
    }

    private static IReadOnlyDictionary<string, string?> Settings(TestVirtualHost vhost, string service, string connectionString) =>
        new PlaneSettings(vhost, PlaneSettings.NewRedisPrefix())
            .Database(DatabaseName(service), connectionString)
            // Token validation is configured but never exercised by anonymous probes.
            .Service("identity", new Uri("http://127.0.0.1:9"))
            .Build();

    private static string DatabaseName(string service) => service switch
    {
        "system-graph" => "graph-db",
        _ => $"{service}-db",
    };

    private static IAsyncDisposable Host(string service, IReadOnlyDictionary<string, string?> settings) => service switch
    {
        "identity" => new ServiceHost<ControlPlane.Identity.IdentityService>(settings),
        "system-graph" => new ServiceHost<ControlPlane.SystemGraph.SystemGraphService>(settings),
        "policy" => new ServiceHost<ControlPlane.Policy.PolicyService>(settings),
        "orchestrator" => new ServiceHost<ControlPlane.Orchestrator.OrchestratorService>(settings),
        "fleet" => new ServiceHost<ControlPlane.Fleet.FleetService>(settings),
        "evidence" => new ServiceHost<ControlPlane.Evidence.EvidenceService>(settings),
        _ => throw new ArgumentOutOfRangeException(nameof(service), service, null),
    };

    private static Uri BaseAddress(IAsyncDisposable host) => host switch
    {
        ServiceHost<ControlPlane.Identity.IdentityService> h => h.BaseAddress,
        ServiceHost<ControlPlane.SystemGraph.SystemGraphService> h => h.BaseAddress,
        ServiceHost<ControlPlane.Policy.PolicyService> h => h.BaseAddress,
        ServiceHost<ControlPlane.Orchestrator.OrchestratorService> h => h.BaseAddress,
        ServiceHost<ControlPlane.Fleet.FleetService> h => h.BaseAddress,
        ServiceHost<ControlPlane.Evidence.EvidenceService> h => h.BaseAddress,
        _ => throw new ArgumentOutOfRangeException(nameof(host)),
    };

    internal static async Task<(HttpStatusCode Status, JsonElement Body)> ReadHealthAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }
}
