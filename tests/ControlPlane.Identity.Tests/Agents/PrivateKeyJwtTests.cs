using System.Net;
using ControlPlane.Identity.Tests.Infrastructure;

namespace ControlPlane.Identity.Tests.Agents;

/// <summary>private_key_jwt (RFC 7523) at the real token endpoint: the agent keeps its key, identity keeps its public JWK.</summary>
public sealed class PrivateKeyJwtTests(IdentityAndPolicy fixture) : IClassFixture<IdentityAndPolicy>
{
    private readonly IdentityPlane _plane = fixture.Plane;

    private string TokenEndpoint => _plane.IssuerText + "/connect/token";

    private async Task<AgentKey> RegisterAgentWithKeyAsync(string agentId)
    {
        using var fleetAdmin = await _plane.IdentityAsAsync(IdentityPlane.FleetAdmin);
        (await IdentityPlane.PostJsonAsync(fleetAdmin, "agents", new
        {
            id = agentId, name = agentId, sponsor = IdentityPlane.Sponsor, fleet = "testing", environments = new[] { "staging" }, actionKinds = new[] { "run-tests" },
        })).EnsureSuccessStatusCode();
        var key = new AgentKey(agentId + "-k1");
        using var registered = await IdentityPlane.PostJsonAsync(fleetAdmin, $"agents/{agentId}/keys", key.PublicJwk);
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        Assert.Equal(key.Kid, (await IdentityPlane.ReadJsonAsync(registered)).GetProperty("kid").GetString());
        return key;
    }

    [Fact]
    public async Task A_signed_assertion_gets_a_token_that_another_service_accepts()
    {
        using var key = await RegisterAgentWithKeyAsync("jwt-bot");

        var (status, body, _) = await _plane.TokenRequestAsync(AgentKey.Form(key.Assertion("jwt-bot", TokenEndpoint), "policy"));

        Assert.Equal(HttpStatusCode.OK, status);
        using var policy = _plane.PolicyWith(body.GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await policy.GetAsync("openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task The_issuer_is_accepted_as_audience_too()
    {
        using var key = await RegisterAgentWithKeyAsync("jwt-issuer-aud");

        var (status, _, _) = await _plane.TokenRequestAsync(AgentKey.Form(key.Assertion("jwt-issuer-aud", _plane.IssuerText)));

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task A_jti_is_used_once()
    {
        using var key = await RegisterAgentWithKeyAsync("jwt-replay");
        var assertion = key.Assertion("jwt-replay", TokenEndpoint);

        var first = await _plane.TokenRequestAsync(AgentKey.Form(assertion));
        var replay = await _plane.TokenRequestAsync(AgentKey.Form(assertion));

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, replay.Status);
        Assert.Equal("invalid_client", replay.Body.GetProperty("error").GetString());
        Assert.Contains("replay", replay.Body.GetProperty("error_description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bent_assertions_are_refused_with_invalid_client()
    {
        using var key = await RegisterAgentWithKeyAsync("jwt-bent");
        using var stranger = new AgentKey("jwt-bent-k1"); // same kid, another key pair

        var cases = new Dictionary<string, string>
        {
            ["wrong audience"] = key.Assertion("jwt-bent", "https://elsewhere.example/token"),
            ["long lifetime"] = key.Assertion("jwt-bent", TokenEndpoint, lifetime: TimeSpan.FromHours(1)),
            ["expired"] = key.Assertion("jwt-bent", TokenEndpoint, lifetime: TimeSpan.FromMinutes(-5)),
            ["no exp"] = key.Assertion("jwt-bent", TokenEndpoint, withExp: false),
            ["sub differs from iss"] = key.Assertion("jwt-bent", TokenEndpoint, subject: IdentityPlane.SeededAgent),
            ["signed by an unregistered key"] = stranger.Assertion("jwt-bent", TokenEndpoint),
            ["another agent's key"] = key.Assertion(IdentityPlane.SeededAgent, TokenEndpoint),
        };
        foreach (var (name, assertion) in cases)
        {
            var (status, body, _) = await _plane.TokenRequestAsync(AgentKey.Form(assertion));

            Assert.True(status == HttpStatusCode.Unauthorized, $"{name}: {status} {body}");
            Assert.Equal("invalid_client", body.GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task An_HS256_or_unsigned_assertion_is_refused()
    {
        using var key = await RegisterAgentWithKeyAsync("jwt-alg");
        var parts = key.Assertion("jwt-alg", TokenEndpoint).Split('.');
        var unsigned = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode("{\"alg\":\"none\",\"kid\":\"jwt-alg-k1\"}") + "." + parts[1] + ".";
        var hmacInput = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode("{\"alg\":\"HS256\",\"kid\":\"jwt-alg-k1\"}") + "." + parts[1];
        var hmac = hmacInput + "." + Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(System.Security.Cryptography.HMACSHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(key.PublicJwk)), System.Text.Encoding.ASCII.GetBytes(hmacInput)));

        Assert.Equal(HttpStatusCode.Unauthorized, (await _plane.TokenRequestAsync(AgentKey.Form(unsigned))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _plane.TokenRequestAsync(AgentKey.Form(hmac))).Status);
    }

    [Fact]
    public async Task A_revoked_key_no_longer_authenticates_and_its_revocation_is_an_event()
    {
        using var key = await RegisterAgentWithKeyAsync("jwt-revoked");
        using var fleetAdmin = await _plane.IdentityAsAsync(IdentityPlane.FleetAdmin);

        using var revoked = await fleetAdmin.DeleteAsync($"agents/jwt-revoked/keys/{key.Kid}");
        var (status, _, _) = await _plane.TokenRequestAsync(AgentKey.Form(key.Assertion("jwt-revoked", TokenEndpoint)));

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        var outbox = await _plane.OutboxAsync();
        Assert.Contains(outbox, m => m.Type == "PrincipalRevoked" && m.Body.GetProperty("principalId").GetString() == "jwt-revoked");
        Assert.Contains(outbox, m => m.Type == "PrincipalChanged" && m.Body.GetProperty("change").GetString() == $"key-added:{key.Kid}"
            && m.Body.GetProperty("changedBy").GetString() == IdentityPlane.FleetAdmin);
    }

    [Fact]
    public async Task Registering_a_private_key_or_a_duplicate_kid_is_refused()
    {
        using var key = await RegisterAgentWithKeyAsync("jwt-keys");
        using var fleetAdmin = await _plane.IdentityAsAsync(IdentityPlane.FleetAdmin);

        using var duplicate = await IdentityPlane.PostJsonAsync(fleetAdmin, "agents/jwt-keys/keys", key.PublicJwk);
        using var withPrivate = await IdentityPlane.PostJsonAsync(fleetAdmin, "agents/jwt-keys/keys", new { kty = "EC", crv = "P-256", x = "AAAA", y = "AAAA", d = "AAAA" });

        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, withPrivate.StatusCode);
        Assert.Contains("\"d\"", await withPrivate.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mixing_client_authentication_methods_is_an_invalid_request()
    {
        using var key = await RegisterAgentWithKeyAsync("jwt-mixed");
        var form = AgentKey.Form(key.Assertion("jwt-mixed", TokenEndpoint));
        form["client_secret"] = "also-a-secret";

        var (status, body, _) = await _plane.TokenRequestAsync(form);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request", body.GetProperty("error").GetString());
    }
}
