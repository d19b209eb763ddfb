using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Identity.Seeding;
using ControlPlane.Policy;
using ControlPlane.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ControlPlane.Identity.Tests.Infrastructure;

/// <summary>
/// The real identity service (own database, vhost and Redis prefix), optionally with the real policy service
/// validating identity's tokens over HTTP and learning revocations over RabbitMQ; both log into <see cref="Logs"/>.
/// </summary>
public sealed class IdentityPlane : IAsyncDisposable
{
    public const string Admin = "ada.admin@example.com";
    public const string FleetAdmin = "fran.fleet-admin@example.com";
    public const string Viewer = "vic.viewer@example.com";
    public const string Auditor = "aud.auditor@example.com";
    public const string Sponsor = "sre.lead@example.com";
    public const string Nobody = "nobody@example.com";
    public const string SeededAgent = "seeded-agent";

    public static readonly IdentitySeed DefaultSeed = new(
        [
            new SeedHuman(Admin, "Ada Admin", Admin, ["admin"]),
            new SeedHuman(FleetAdmin, "Fran Fleet-Admin", FleetAdmin, ["fleet-admin"]),
            new SeedHuman(Viewer, "Vic Viewer", Viewer, ["viewer"]),
            new SeedHuman(Auditor, "Aud Auditor", Auditor, ["auditor"]),
            new SeedHuman(Sponsor, "SRE Lead", Sponsor, []),
            new SeedHuman(Nobody, "No Roles", null, []),
        ],
        [new SeedAgent(SeededAgent, "Seeded agent", Sponsor, "remediation", ["staging"], ["restart"], ["proposer"], null)]);

    private TestDatabase? _policyDb;

    private IdentityPlane(TestVirtualHost vhost, TestIdentity identity, LogCapture logs)
    {
        Vhost = vhost;
        Identity = identity;
        Logs = logs;
    }

    public TestVirtualHost Vhost { get; }

    public TestIdentity Identity { get; }

    public ServiceHost<PolicyService>? Policy { get; private set; }

    public LogCapture Logs { get; }

    public static async Task<IdentityPlane> StartAsync(string purpose, IdentitySeed? seed = null, Action<PlaneSettings>? configure = null, bool withPolicy = false)
    {
        var vhost = await TestVirtualHost.CreateAsync(purpose);
        var logs = new LogCapture();
        TestIdentity identity;
        try
        {
            identity = await TestIdentity.StartAsync(vhost, seed ?? DefaultSeed, configure, services => services.AddSingleton<ILoggerProvider>(logs));
        }
        catch
        {
            await vhost.DisposeAsync();
            throw;
        }

        var plane = new IdentityPlane(vhost, identity, logs);
        if (withPolicy)
        {
            plane._policyDb = await TestDatabase.CreateAsync("policy");
            plane.Policy = new ServiceHost<PolicyService>(new PlaneSettings(vhost, PlaneSettings.NewRedisPrefix())
                .Database("policy-db", plane._policyDb.ConnectionString)
                .Service("identity", identity.Address)
                .Build(), configureServices: services => services.AddSingleton<ILoggerProvider>(logs));
            // Revocations reach policy on its bus queue: wait until it is connected, or an early event is missed.
            using var http = plane.Policy.CreateHttpClient();
            await WaitHealthyAsync(http, "policy");
        }

        using (var http = identity.Host.CreateHttpClient())
        {
            await WaitHealthyAsync(http, "identity");
        }

        return plane;
    }

    private static async Task WaitHealthyAsync(HttpClient http, string service) =>
        await Eventually.UntilAsync(async () =>
        {
            using var response = await http.GetAsync("health");
            return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }, r => r.StartsWith("200 ", StringComparison.Ordinal), TimeSpan.FromSeconds(30), service + " /health");

    public string IssuerText => Identity.Address.ToString().TrimEnd('/');

    /// <summary>A client of identity with a token of <paramref name="human"/> for identity (dev login).</summary>
    public async Task<HttpClient> IdentityAsAsync(string human) =>
        Identity.Host.CreateHttpClient(await Identity.HumanTokenAsync(human, "identity"));

    public HttpClient IdentityAnonymous() => Identity.Host.CreateHttpClient();

    public HttpClient PolicyWith(string token) => (Policy ?? throw new InvalidOperationException("Start the plane withPolicy.")).CreateHttpClient(token);

    /// <summary>The token endpoint's raw answer to a form.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> TokenRequestAsync(
        IReadOnlyDictionary<string, string> form, string? basicClient = null, string? basicSecret = null)
    {
        using var http = IdentityAnonymous();
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token") { Content = new FormUrlEncodedContent(form) };
        if (basicClient is not null)
        {
            request.Headers.Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(
                $"{Uri.EscapeDataString(basicClient)}:{Uri.EscapeDataString(basicSecret ?? string.Empty)}")));
        }

        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default, response);
    }

    /// <summary>Messages identity put in its outbox, oldest first: (type name, body).</summary>
    public async Task<IReadOnlyList<(string Type, JsonElement Body)>> OutboxAsync()
    {
        await using var connection = new NpgsqlConnection(Identity.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select message_type, body::text from outbox_messages order by id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var messages = new List<(string, JsonElement)>();
        while (await reader.ReadAsync())
        {
            messages.Add((reader.GetString(0).Replace("ControlPlane.Contracts.", string.Empty, StringComparison.Ordinal), JsonDocument.Parse(reader.GetString(1)).RootElement.Clone()));
        }

        return messages;
    }

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    public static async Task<HttpResponseMessage> PostJsonAsync(HttpClient http, string path, object body) =>
        await http.PostAsJsonAsync(path, body, ControlPlane.Contracts.ContractJson.Options);

    public async ValueTask DisposeAsync()
    {
        if (Policy is not null)
        {
            await Policy.DisposeAsync();
        }

        if (_policyDb is not null)
        {
            await _policyDb.DisposeAsync();
        }

        await Identity.DisposeAsync();
        await Vhost.DisposeAsync();
    }
}
