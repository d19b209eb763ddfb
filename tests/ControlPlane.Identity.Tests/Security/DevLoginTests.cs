using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Identity.Seeding;
using ControlPlane.Testing;

namespace ControlPlane.Identity.Tests.Security;

/// <summary>The development IdP exists only in Development; anywhere else identity refuses to start with it.</summary>
public sealed class DevLoginTests
{
    private const string KeyEncryptionKey = "a-test-key-encryption-key-of-enough-length";

    private static async Task<Exception> StartFailureAsync(IReadOnlyDictionary<string, string?> settings, string environment)
    {
        await using var host = new ServiceHost<IdentityService>(settings, environment);
        return Assert.ThrowsAny<Exception>(() => host.BaseAddress);
    }

    private static string AllMessages(Exception ex) => ex.InnerException is null ? ex.Message : ex.Message + " | " + AllMessages(ex.InnerException);

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    public async Task Identity_refuses_to_start_with_the_dev_IdP_outside_Development(string environment)
    {
        await using var vhost = await TestVirtualHost.CreateAsync("devlogin");
        await using var db = await TestDatabase.CreateAsync("identity");
        var settings = new PlaneSettings(vhost, PlaneSettings.NewRedisPrefix())
            .Database("identity-db", db.ConnectionString)
            .Set("Identity:KeyEncryptionKey", KeyEncryptionKey)
            .Set("Identity:DevLogin:Enabled", "true");

        var failure = await StartFailureAsync(settings.Build(), environment);

        Assert.Contains("Identity:DevLogin:Enabled", AllMessages(failure), StringComparison.Ordinal);
        Assert.Contains(environment, AllMessages(failure), StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_production_there_is_no_dev_login_and_seeds_with_plain_secrets_are_refused()
    {
        await using var vhost = await TestVirtualHost.CreateAsync("devlogin");
        await using var db = await TestDatabase.CreateAsync("identity");
        var settings = new PlaneSettings(vhost, PlaneSettings.NewRedisPrefix())
            .Database("identity-db", db.ConnectionString)
            .Set("Identity:KeyEncryptionKey", KeyEncryptionKey);
        await using (var production = new ServiceHost<IdentityService>(settings.Build(), "Production"))
        {
            using var http = production.CreateHttpClient();
            using var devLogin = await http.PostAsJsonAsync("dev/token", new { principal = "anyone@example.com", audience = "identity" });
            using var discovery = await http.GetAsync(".well-known/openid-configuration");

            Assert.Contains(devLogin.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.Unauthorized });
            Assert.DoesNotContain("access_token", await devLogin.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, discovery.StatusCode);
        }

        var seedPath = Path.Combine(Path.GetTempPath(), $"cpt-prod-seed-{Guid.NewGuid():N}.json");
        try
        {
            await File.WriteAllTextAsync(seedPath, JsonSerializer.Serialize(new IdentitySeed(
                [new SeedHuman("owner@example.com", "Owner", null, [])],
                [new SeedAgent("plain-secret-agent", "Agent", "owner@example.com", "testing", ["dev"], ["run-tests"], ["proposer"], "a-plain-secret-in-a-file")]),
                ContractJson.Options));
            var failure = await StartFailureAsync(settings.Set("Identity:SeedFile", seedPath).Build(), "Production");

            Assert.Contains("only in Development", AllMessages(failure), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(seedPath);
        }
    }

    [Fact]
    public async Task In_development_the_dev_login_is_off_unless_enabled()
    {
        await using var vhost = await TestVirtualHost.CreateAsync("devlogin");
        await using var db = await TestDatabase.CreateAsync("identity");
        var settings = new PlaneSettings(vhost, PlaneSettings.NewRedisPrefix())
            .Database("identity-db", db.ConnectionString)
            .Set("Identity:DevLogin:Enabled", "false");
        await using var host = new ServiceHost<IdentityService>(settings.Build());
        using var http = host.CreateHttpClient();

        using var devLogin = await http.PostAsJsonAsync("dev/token", new { principal = "anyone@example.com", audience = "identity" });

        Assert.Contains(devLogin.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.Unauthorized });
    }
}
