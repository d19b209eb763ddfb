using System.Net;
using System.Net.Sockets;
using ControlPlane.Identity.Seeding;
using ControlPlane.Testing;

namespace ControlPlane.ServiceDefaults.Tests.Security;

/// <summary>Token validation of a service (policy) against the real identity service's discovery and JWKS.</summary>
public sealed class BearerTokenTests : IAsyncLifetime
{
    private static readonly IdentitySeed Seed = new(
        [new SeedHuman("viewer@example.com", "Vera Viewer", null, ["viewer"]), new SeedHuman("nobody@example.com", "No Roles", null, [])],
        []);

    private TestVirtualHost _vhost = null!;
    private TestDatabase _policyDb = null!;
    private TestIdentity _identity = null!;
    private ServiceHost<ControlPlane.Policy.PolicyService> _policy = null!;

    public async ValueTask InitializeAsync()
    {
        _vhost = await TestVirtualHost.CreateAsync("auth");
        _identity = await TestIdentity.StartAsync(_vhost, Seed);
        _policyDb = await TestDatabase.CreateAsync("policy");
        _policy = new ServiceHost<ControlPlane.Policy.PolicyService>(new PlaneSettings(_vhost, PlaneSettings.NewRedisPrefix())
            .Database("policy-db", _policyDb.ConnectionString)
            .Service("identity", _identity.Address)
            .Build());
    }

    [Fact]
    public async Task A_request_without_a_token_gets_401_with_a_bearer_challenge_and_problem_details()
    {
        using var http = _policy.CreateHttpClient();
        using var response = await http.GetAsync("openapi/v1.json");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_valid_token_for_this_audience_is_accepted()
    {
        using var http = _policy.CreateHttpClient(await _identity.HumanTokenAsync("viewer@example.com", "policy"));
        using var response = await http.GetAsync("openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_token_for_another_audience_gets_401()
    {
        using var http = _policy.CreateHttpClient(await _identity.HumanTokenAsync("viewer@example.com", "orchestrator"));
        using var response = await http.GetAsync("openapi/v1.json");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("wrong audience", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_with_a_bad_signature_gets_401()
    {
        var token = await _identity.HumanTokenAsync("viewer@example.com", "policy");
        var parts = token.Split('.');
        var signature = parts[2].ToCharArray();
        signature[10] = signature[10] == 'A' ? 'B' : 'A';
        using var http = _policy.CreateHttpClient($"{parts[0]}.{parts[1]}.{new string(signature)}");
        using var response = await http.GetAsync("openapi/v1.json");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_token_from_another_issuer_gets_401()
    {
        // A second, independent identity: its own key and its own issuer address.
        await using var stranger = await TestIdentity.StartAsync(_vhost, Seed);
        using var http = _policy.CreateHttpClient(await stranger.HumanTokenAsync("viewer@example.com", "policy"));
        using var response = await http.GetAsync("openapi/v1.json");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task An_oversized_token_is_refused_before_it_is_parsed()
    {
        using var http = _policy.CreateHttpClient(new string('a', 17 * 1024));
        using var response = await http.GetAsync("openapi/v1.json");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("missing or oversized token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_identitys_keys_a_genuine_token_gets_401_fail_closed()
    {
        // policy pointed at a port nobody listens on: it never fetched keys, so it has nothing to trust.
        await using var db = await TestDatabase.CreateAsync("policy");
        await using var orphan = new ServiceHost<ControlPlane.Policy.PolicyService>(new PlaneSettings(_vhost, PlaneSettings.NewRedisPrefix())
            .Database("policy-db", db.ConnectionString)
            .Service("identity", new Uri($"http://127.0.0.1:{UnusedPort()}/"))
            .Build());
        using var http = orphan.CreateHttpClient(await _identity.HumanTokenAsync("viewer@example.com", "policy"));
        using var response = await http.GetAsync("openapi/v1.json");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("signing keys unavailable", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Identity_answers_403_when_the_caller_lacks_the_permission_and_200_when_it_has_it()
    {
        using var viewer = _identity.Host.CreateHttpClient(await _identity.HumanTokenAsync("viewer@example.com", "identity"));
        using var nobody = _identity.Host.CreateHttpClient(await _identity.HumanTokenAsync("nobody@example.com", "identity"));

        using var forbidden = await viewer.GetAsync("principals/nobody@example.com");
        using var self = await nobody.GetAsync("principals/me");

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.OK, self.StatusCode);
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _policy.DisposeAsync();
        await _policyDb.DisposeAsync();
        await _identity.DisposeAsync();
        await _vhost.DisposeAsync();
    }
}
