using System.Net;
using System.Text.Json;
using ControlPlane.Testing;

namespace ControlPlane.ServiceDefaults.Tests.Health;

public sealed class HealthEndpointTests
{
    [Fact]
    public async Task Identity_is_healthy_with_its_database_and_the_broker()
    {
        await using var db = await TestDatabase.CreateAsync("identity");
        await using var vhost = await TestVirtualHost.CreateAsync("health");
        var settings = new PlaneSettings(vhost, PlaneSettings.NewRedisPrefix()).Database("identity-db", db.ConnectionString);
        await using var identity = new ServiceHost<ControlPlane.Identity.IdentityService>(settings.Build());

        using var http = identity.CreateHttpClient();
        var report = await Eventually.UntilAsync(() => ReadHealthAsync(http, "health"), r => r.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "identity /health");

        Assert.Equal("Healthy", report.Body.GetProperty("status").GetString());
        Assert.Equal("Healthy", report.Body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("Healthy", report.Body.GetProperty("checks").GetProperty("masstransit-bus").GetProperty("status").GetString());
    }

    internal static async Task<(HttpStatusCode Status, JsonElement Body)> ReadHealthAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }
}
