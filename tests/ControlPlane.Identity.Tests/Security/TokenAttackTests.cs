using System.Net;
using System.Security.Cryptography;
using ControlPlane.Identity.Tests.Infrastructure;
using ControlPlane.Testing;
using Microsoft.IdentityModel.Tokens;

namespace ControlPlane.Identity.Tests.Security;

/// <summary>
/// RFC 8725 attacks against two services validating identity's tokens: identity itself (/principals/me) and
/// policy (/openapi/v1.json, over discovery + JWKS). Each gets 401 and a log line that does not contain the token.
/// </summary>
public sealed class TokenAttackTests(IdentityAndPolicy fixture) : IClassFixture<IdentityAndPolicy>
{
    private readonly IdentityPlane _plane = fixture.Plane;

    /// <summary>The attack and the reason the validator logs for it.</summary>
    public static TheoryData<string, string> Attacks => new()
    {
        { "alg none", "bad signature" },
        { "HS256 signed with the public key", "bad signature" },
        { "expired", "token expired" },
        { "not yet valid", "token not yet valid" },
        { "wrong issuer", "wrong issuer" },
        { "wrong audience", "wrong audience" },
        { "wrong typ", "wrong token type (typ)" },
        { "unknown kid", "unknown signing key (kid)" },
        { "tampered payload", "bad signature" },
    };

    private async Task<string> ForgeAsync(string attack, string audience)
    {
        var forge = await TokenForge.FromIdentityDatabaseAsync(_plane.Identity.DatabaseConnectionString, _plane.IssuerText);
        var claims = forge.Claims(IdentityPlane.Viewer, audience);
        var now = DateTime.UtcNow;
        switch (attack)
        {
            case "alg none":
                return forge.Unsigned(claims);
            case "HS256 signed with the public key":
                return forge.HmacWithPublicKey(claims);
            case "expired":
                claims["iat"] = EpochTime.GetIntDate(now.AddMinutes(-20));
                claims["nbf"] = EpochTime.GetIntDate(now.AddMinutes(-20));
                claims["exp"] = EpochTime.GetIntDate(now.AddMinutes(-10));
                return forge.Sign(claims);
            case "not yet valid":
                claims["nbf"] = EpochTime.GetIntDate(now.AddMinutes(10));
                claims["exp"] = EpochTime.GetIntDate(now.AddMinutes(20));
                return forge.Sign(claims);
            case "wrong issuer":
                claims["iss"] = "https://identity.evil.example";
                return forge.Sign(claims);
            case "wrong audience":
                claims["aud"] = "fleet";
                return forge.Sign(claims);
            case "wrong typ":
                return forge.Sign(claims, type: "JWT");
            case "unknown kid":
                using (var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256))
                {
                    return forge.Sign(claims, key: stranger, kid: "kid-nobody-knows");
                }

            case "tampered payload":
                return TokenForge.Tamper(await _plane.Identity.HumanTokenAsync(IdentityPlane.Viewer, audience), "cp_roles", new[] { "admin" });
            default:
                throw new ArgumentOutOfRangeException(nameof(attack), attack, "unknown attack");
        }
    }

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task Each_attack_gets_401_at_both_services_and_is_logged_without_the_token(string attack, string reason)
    {
        var seen = _plane.Logs.Lines.Count;
        var atIdentity = await ForgeAsync(attack, "identity");
        var atPolicy = await ForgeAsync(attack, "policy");

        using var identity = _plane.Identity.Host.CreateHttpClient(atIdentity);
        using var policy = _plane.PolicyWith(atPolicy);
        using var identityAnswer = await identity.GetAsync("principals/me");
        using var policyAnswer = await policy.GetAsync("openapi/v1.json");

        Assert.Equal(HttpStatusCode.Unauthorized, identityAnswer.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, policyAnswer.StatusCode);
        Assert.Contains("invalid_token", policyAnswer.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        var logged = _plane.Logs.Lines.Skip(seen).ToList();
        Assert.Contains(logged, l => l.Contains($"Bearer token rejected ({reason}) for GET /principals/me", StringComparison.Ordinal));
        Assert.Contains(logged, l => l.Contains($"Bearer token rejected ({reason}) for GET /openapi/v1.json", StringComparison.Ordinal));
        AssertLoggedWithoutToken(atIdentity, "/principals/me");
        AssertLoggedWithoutToken(atPolicy, "/openapi/v1.json");
    }

    [Fact]
    public async Task A_genuine_token_passes_both_services_so_the_refusals_above_are_about_the_attacks()
    {
        using var identity = _plane.Identity.Host.CreateHttpClient(await _plane.Identity.HumanTokenAsync(IdentityPlane.Viewer, "identity"));
        using var policy = _plane.PolicyWith(await _plane.Identity.HumanTokenAsync(IdentityPlane.Viewer, "policy"));

        Assert.Equal(HttpStatusCode.OK, (await identity.GetAsync("principals/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await policy.GetAsync("openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task A_basic_authorization_header_is_no_way_into_an_api()
    {
        using var identity = _plane.IdentityAnonymous();
        identity.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{IdentityPlane.SeededAgent}:{TestIdentity.AgentSecret}")));

        using var response = await identity.GetAsync("principals/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task A_revoked_agents_earlier_token_is_refused_at_another_service_within_seconds_and_not_logged()
    {
        using var fleetAdmin = await _plane.IdentityAsAsync(IdentityPlane.FleetAdmin);
        (await IdentityPlane.PostJsonAsync(fleetAdmin, "agents", new
        {
            id = "attack-victim", name = "Victim", sponsor = IdentityPlane.Sponsor, fleet = "remediation", environments = new[] { "staging" }, actionKinds = new[] { "restart" },
        })).EnsureSuccessStatusCode();
        var secret = (await IdentityPlane.ReadJsonAsync(await fleetAdmin.PostAsync("agents/attack-victim/secrets", null))).GetProperty("secret").GetString()!;
        var atPolicy = await _plane.Identity.AgentTokenAsync("attack-victim", "policy", secret);
        var atIdentity = await _plane.Identity.AgentTokenAsync("attack-victim", "identity", secret);
        using var policy = _plane.PolicyWith(atPolicy);
        using var identity = _plane.Identity.Host.CreateHttpClient(atIdentity);
        Assert.Equal(HttpStatusCode.OK, (await policy.GetAsync("openapi/v1.json")).StatusCode);

        (await fleetAdmin.PostAsync("agents/attack-victim/revoke", null)).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.Unauthorized, (await identity.GetAsync("principals/me")).StatusCode);
        await Eventually.UntilAsync(async () => (await policy.GetAsync("openapi/v1.json")).StatusCode == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(10), "policy refusing the revoked agent's token");
        AssertLoggedWithoutToken(atIdentity, "/principals/me", "principal revoked");
        AssertLoggedWithoutToken(atPolicy, "/openapi/v1.json", "principal revoked");
        Assert.DoesNotContain(_plane.Logs.Lines, l => l.Contains(secret, StringComparison.Ordinal));
    }

    private void AssertLoggedWithoutToken(string token, string path, string? reason = null)
    {
        var lines = _plane.Logs.Lines;
        Assert.Contains(lines, l => l.Contains("Bearer token rejected", StringComparison.Ordinal) && l.Contains(path, StringComparison.Ordinal)
            && (reason is null || l.Contains(reason, StringComparison.Ordinal)));
        var parts = token.Split('.');
        Assert.DoesNotContain(lines, l => l.Contains(token, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(parts[1], StringComparison.Ordinal));
        if (parts.Length > 2 && parts[2].Length > 0)
        {
            Assert.DoesNotContain(lines, l => l.Contains(parts[2], StringComparison.Ordinal));
        }
    }
}
