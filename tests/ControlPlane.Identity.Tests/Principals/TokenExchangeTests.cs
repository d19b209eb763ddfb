using System.Net;
using System.Security.Cryptography;
using ControlPlane.Identity.Tests.Infrastructure;
using ControlPlane.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ControlPlane.Identity.Tests.Principals;

/// <summary>identity with a corporate IdP (a fake one over real HTTP on loopback) and policy behind it.</summary>
public sealed class ExternalIdpPlane : PlaneFixture
{
    public FakeIdp Idp { get; private set; } = null!;

    protected override string Purpose => "exchange";

    protected override bool WithPolicy => true;

    public override async ValueTask InitializeAsync()
    {
        Idp = await FakeIdp.StartAsync();
        await base.InitializeAsync();
    }

    protected override void Configure(PlaneSettings settings) => settings
        .Set("Identity:ExternalIdp:Authority", Idp.Issuer)
        .Set("Identity:ExternalIdp:Audience", FakeIdp.Audience)
        .Set("Identity:ExternalIdp:AllowInsecureMetadata", "true")
        .Set("Identity:ExternalIdp:GroupBindings:sre-approvers:0", "approver@environment:production")
        .Set("Identity:ExternalIdp:GroupBindings:sre-approvers:1", "viewer")
        .Set("Identity:ExternalIdp:GroupBindings:staging-approvers:0", "approver@environment:staging")
        .Set("Identity:ExternalIdp:GroupBindings:everyone", "viewer");

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Idp.DisposeAsync();
    }
}

/// <summary>RFC 8693 token exchange: the IdP's token for a short-lived control-plane token, groups mapped to bindings.</summary>
public sealed class TokenExchangeTests(ExternalIdpPlane fixture) : IClassFixture<ExternalIdpPlane>
{
    private readonly IdentityPlane _plane = fixture.Plane;
    private readonly FakeIdp _idp = fixture.Idp;

    private static Dictionary<string, string> Exchange(string subjectToken, string audience = "policy",
        string subjectTokenType = "urn:ietf:params:oauth:token-type:jwt") => new()
    {
        ["grant_type"] = "urn:ietf:params:oauth:grant-type:token-exchange",
        ["subject_token"] = subjectToken,
        ["subject_token_type"] = subjectTokenType,
        ["audience"] = audience,
    };

    private static IReadOnlyList<string> Roles(string token) =>
        new JsonWebToken(token).Claims.Where(c => c.Type == "cp_roles").Select(c => c.Value).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task An_RS256_IdP_token_becomes_a_control_plane_token_with_bindings_from_groups_that_another_service_accepts()
    {
        var (status, body, response) = await _plane.TokenRequestAsync(Exchange(_idp.Issue("Pat.Approver@Example.com", ["sre-approvers", "unmapped"])));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("urn:ietf:params:oauth:token-type:access_token", body.GetProperty("issued_token_type").GetString());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var token = body.GetProperty("access_token").GetString()!;
        var jwt = new JsonWebToken(token);
        Assert.Equal("pat.approver@example.com", jwt.Subject);
        Assert.Equal("human", jwt.GetPayloadValue<string>("cp_kind"));
        Assert.Equal(["policy"], jwt.Audiences);
        Assert.Equal(["approver@environment:production", "viewer"], Roles(token));
        using var policy = _plane.PolicyWith(token);
        Assert.Equal(HttpStatusCode.OK, (await policy.GetAsync("openapi/v1.json")).StatusCode);

        var outbox = await _plane.OutboxAsync();
        Assert.Contains(outbox, m => m.Type == "PrincipalChanged" && m.Body.GetProperty("principalId").GetString() == "pat.approver@example.com"
            && m.Body.GetProperty("change").GetString() == "registered-from-idp" && m.Body.GetProperty("changedBy").GetString() == "idp:" + _idp.Issuer);
        Assert.Equal(2, outbox.Count(m => m.Type == "RoleBindingChanged" && m.Body.GetProperty("principalId").GetString() == "pat.approver@example.com"));
    }

    [Fact]
    public async Task An_ES256_id_token_works_too()
    {
        var (status, body, _) = await _plane.TokenRequestAsync(Exchange(_idp.Issue("es.user@example.com", ["everyone"], ec: true), "identity",
            "urn:ietf:params:oauth:token-type:id_token"));

        Assert.Equal(HttpStatusCode.OK, status);
        using var me = _plane.Identity.Host.CreateHttpClient(body.GetProperty("access_token").GetString()!);
        var principal = await IdentityPlane.ReadJsonAsync(await me.GetAsync("principals/me"));
        Assert.Equal("es.user@example.com", principal.GetProperty("id").GetString());
        Assert.Equal("Name of es.user@example.com", principal.GetProperty("displayName").GetString());
    }

    [Fact]
    public async Task When_the_IdP_rotates_its_keys_the_first_token_of_the_new_key_is_accepted()
    {
        Assert.Equal(HttpStatusCode.OK, (await _plane.TokenRequestAsync(Exchange(_idp.Issue("before.rotation@example.com")))).Status);
        var fetches = _idp.DiscoveryRequests;

        var (status, body, _) = await _plane.TokenRequestAsync(Exchange(_idp.Issue("after.rotation@example.com", signWith: _idp.AddRsaKey())));

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.True(_idp.DiscoveryRequests > fetches, "identity fetched the IdP's metadata again");
    }

    [Fact]
    public async Task Group_bindings_are_replaced_on_each_exchange_and_direct_bindings_are_kept()
    {
        const string Human = "mover@example.com";
        Assert.Equal(HttpStatusCode.OK, (await _plane.TokenRequestAsync(Exchange(_idp.Issue(Human, ["sre-approvers"])))).Status);
        using var admin = await _plane.IdentityAsAsync(IdentityPlane.Admin);
        (await IdentityPlane.PostJsonAsync(admin, $"principals/{Human}/bindings", new { binding = "operator" })).EnsureSuccessStatusCode();

        var (status, body, _) = await _plane.TokenRequestAsync(Exchange(_idp.Issue(Human, ["staging-approvers"])));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["approver@environment:staging", "operator"], Roles(body.GetProperty("access_token").GetString()!));
        var grants = await IdentityPlane.ReadJsonAsync(await admin.GetAsync($"principals/{Human}/bindings"));
        Assert.Equal([("approver@environment:staging", "idp-group"), ("operator", "direct")],
            grants.EnumerateArray().Select(g => (g.GetProperty("binding").GetString(), g.GetProperty("source").GetString())));
        using var deleteGroupBinding = await admin.DeleteAsync($"principals/{Human}/bindings/approver@environment:staging");
        Assert.Equal(HttpStatusCode.Conflict, deleteGroupBinding.StatusCode);
        var revokedByIdp = Assert.Single(await _plane.OutboxAsync(), m => m.Type == "RoleBindingChanged" && m.Body.GetProperty("principalId").GetString() == Human
            && m.Body.GetProperty("binding").GetString() == "approver@environment:production" && !m.Body.GetProperty("granted").GetBoolean());
        Assert.Equal("idp:" + _idp.Issuer, revokedByIdp.Body.GetProperty("changedBy").GetString());
    }

    [Fact]
    public async Task Tokens_the_IdP_did_not_mean_for_us_are_refused_with_invalid_grant()
    {
        using var foreignRsa = RSA.Create(2048);
        var header = Base64UrlEncoder.Encode("{\"alg\":\"none\",\"kid\":\"rsa-1\"}");
        var payload = _idp.Issue("mallory@example.com").Split('.')[1];
        var cases = new Dictionary<string, string>
        {
            ["wrong audience"] = _idp.Issue("mallory@example.com", audience: "some-other-app"),
            ["wrong issuer"] = _idp.Issue("mallory@example.com", issuer: "https://evil.example"),
            ["expired"] = _idp.Issue("mallory@example.com", expiresIn: TimeSpan.FromMinutes(-10)),
            ["unknown signing key"] = _idp.Issue("mallory@example.com", signWith: new RsaSecurityKey(foreignRsa) { KeyId = "rsa-1" }),
            ["alg none"] = $"{header}.{payload}.",
            ["unverified email"] = _idp.Issue("mallory@example.com", extra: new Dictionary<string, object> { ["email_verified"] = false }),
            ["not a jwt"] = "not-a-token",
        };
        foreach (var (name, token) in cases)
        {
            var (status, body, _) = await _plane.TokenRequestAsync(Exchange(token));

            Assert.True(status == HttpStatusCode.BadRequest, $"{name}: {status} {body}");
            Assert.Equal("invalid_grant", body.GetProperty("error").GetString());
        }

        using var admin = await _plane.IdentityAsAsync(IdentityPlane.Admin);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("principals/mallory@example.com")).StatusCode);
    }

    [Fact]
    public async Task A_recycled_address_with_another_IdP_subject_does_not_inherit_the_principal()
    {
        Assert.Equal(HttpStatusCode.OK, (await _plane.TokenRequestAsync(Exchange(_idp.Issue("recycled@example.com", subject: "subject-1")))).Status);

        var (status, body, _) = await _plane.TokenRequestAsync(Exchange(_idp.Issue("recycled@example.com", subject: "subject-2")));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Malformed_exchange_requests_are_invalid_requests()
    {
        var token = _idp.Issue("someone@example.com");
        var withoutType = Exchange(token);
        withoutType.Remove("subject_token_type");
        var withActor = Exchange(token);
        withActor["actor_token"] = token;
        var unknownAudience = Exchange(token, "billing");

        Assert.Equal("invalid_request", (await _plane.TokenRequestAsync(withoutType)).Body.GetProperty("error").GetString());
        Assert.Equal("invalid_request", (await _plane.TokenRequestAsync(withActor)).Body.GetProperty("error").GetString());
        Assert.Equal("invalid_target", (await _plane.TokenRequestAsync(unknownAudience)).Body.GetProperty("error").GetString());
    }
}

/// <summary>Without an IdP configured, token exchange is not offered.</summary>
public sealed class TokenExchangeUnconfiguredTests
{
    [Fact]
    public async Task Token_exchange_without_an_IdP_is_an_unsupported_grant()
    {
        await using var plane = await IdentityPlane.StartAsync("no-idp");

        var (status, body, _) = await plane.TokenRequestAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "urn:ietf:params:oauth:grant-type:token-exchange",
            ["subject_token"] = "x.y.z",
            ["subject_token_type"] = "urn:ietf:params:oauth:token-type:jwt",
            ["audience"] = "policy",
        });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("unsupported_grant_type", body.GetProperty("error").GetString());
    }
}
