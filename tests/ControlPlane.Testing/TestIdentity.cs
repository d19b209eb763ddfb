using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Identity;
using ControlPlane.Identity.Seeding;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.Testing;

/// <summary>
/// The real identity service for a test: its own database, seeded with the principals the test names, handing
/// out real ES256 tokens (dev login for humans, client credentials for agents). Other services under test point
/// services:identity:http:0 at <see cref="Address"/>.
/// </summary>
public sealed class TestIdentity : IAsyncDisposable
{
    public const string AgentSecret = "test-agent-secret-0123456789";

    private readonly TestDatabase _database;
    private readonly string _seedPath;
    private readonly HttpClient _http;

    private TestIdentity(TestDatabase database, string seedPath, ServiceHost<IdentityService> host)
    {
        _database = database;
        _seedPath = seedPath;
        Host = host;
        _http = host.CreateHttpClient();
    }

    public ServiceHost<IdentityService> Host { get; }

    public Uri Address => Host.BaseAddress;

    /// <summary>identity's own database (tests read its outbox, or its encrypted signing keys).</summary>
    public string DatabaseConnectionString => _database.ConnectionString;

    /// <summary>Starts identity with these principals. Agents get <see cref="AgentSecret"/> as their client secret.</summary>
    public static Task<TestIdentity> StartAsync(TestVirtualHost vhost, IdentitySeed seed) => StartAsync(vhost, seed, null, null);

    /// <summary>
    /// As <see cref="StartAsync(TestVirtualHost, IdentitySeed)"/>, with extra settings (token lifetime, rate limits,
    /// an external IdP, …) and services (a log capture) for the test.
    /// </summary>
    public static async Task<TestIdentity> StartAsync(TestVirtualHost vhost, IdentitySeed seed, Action<PlaneSettings>? configure,
        Action<IServiceCollection>? configureServices = null)
    {
        var database = await TestDatabase.CreateAsync("identity");
        var seedPath = Path.Combine(Path.GetTempPath(), $"cpt-identity-seed-{Guid.NewGuid():N}.json");
        var withSecrets = seed with { Agents = seed.Agents?.Select(a => a with { Secret = a.Secret ?? AgentSecret }).ToList() };
        await File.WriteAllTextAsync(seedPath, JsonSerializer.Serialize(withSecrets, ContractJson.Options));

        var settings = new PlaneSettings(vhost, PlaneSettings.NewRedisPrefix())
            .Database("identity-db", database.ConnectionString)
            .Set("Identity:SeedFile", seedPath)
            .Set("Identity:DevLogin:Enabled", "true");
        configure?.Invoke(settings);
        var host = new ServiceHost<IdentityService>(settings.Build(), configureServices: configureServices);
        try
        {
            _ = host.BaseAddress; // start now: seeding and the first key happen at start
        }
        catch
        {
            await host.DisposeAsync();
            await database.DisposeAsync();
            File.Delete(seedPath);
            throw;
        }

        return new TestIdentity(database, seedPath, host);
    }

    /// <summary>A token for a seeded human (dev login).</summary>
    public async Task<string> HumanTokenAsync(string principal, string audience)
    {
        using var response = await _http.PostAsJsonAsync("dev/token", new { principal, audience });
        return await ReadTokenAsync(response, $"dev login of {principal} for {audience}");
    }

    /// <summary>A token for a seeded agent (client credentials, HTTP Basic).</summary>
    public async Task<string> AgentTokenAsync(string agent, string audience, string secret = AgentSecret)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["audience"] = audience }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(agent)}:{Uri.EscapeDataString(secret)}")));
        using var response = await _http.SendAsync(request);
        return await ReadTokenAsync(response, $"client credentials of {agent} for {audience}");
    }

    private static async Task<string> ReadTokenAsync(HttpResponseMessage response, string what)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{what} failed: {(int)response.StatusCode} {body}");
        }

        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await Host.DisposeAsync();
        await _database.DisposeAsync();
        File.Delete(_seedPath);
    }
}
