using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ControlPlane.Identity.Tests.Infrastructure;

/// <summary>
/// A corporate IdP for tests over real HTTP: a tiny ASP.NET app on a loopback Kestrel port serving OIDC discovery
/// and a JWKS with an RSA and an EC key the test holds, and minting RS256 / ES256 tokens as that IdP would.
/// </summary>
public sealed class FakeIdp : IAsyncDisposable
{
    public const string Audience = "controlplane";

    private readonly WebApplication _app;
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly ECDsa _ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly List<RSA> _laterKeys = [];
    private int _discoveryRequests;

    private FakeIdp(WebApplication app) => _app = app;

    public string Issuer { get; private set; } = string.Empty;

    public RsaSecurityKey RsaKey => new(_rsa) { KeyId = "rsa-1" };

    public ECDsaSecurityKey EcKey => new(_ec) { KeyId = "ec-1" };

    public int DiscoveryRequests => _discoveryRequests;

    /// <summary>Who the IdP's /authorize signs in (email, groups).</summary>
    public (string Email, IReadOnlyList<string> Groups) SignInAs { get; set; } = ("someone@example.com", []);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string ClientId, string RedirectUri, string Nonce, string Challenge)> _codes = new();

    public static async Task<FakeIdp> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var idp = new FakeIdp(app);
        app.MapGet("/.well-known/openid-configuration", () =>
        {
            Interlocked.Increment(ref idp._discoveryRequests);
            return Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = idp.Issuer,
                ["jwks_uri"] = idp.Issuer + "/keys",
                ["authorization_endpoint"] = idp.Issuer + "/authorize",
                ["token_endpoint"] = idp.Issuer + "/token",
                ["id_token_signing_alg_values_supported"] = new[] { "RS256", "ES256" },
            });
        });
        // The sign-in redirect as a corporate IdP does it, signing in SignInAs without asking.
        app.MapGet("/authorize", (HttpContext http) =>
        {
            var q = http.Request.Query;
            var code = Guid.NewGuid().ToString("N");
            idp._codes[code] = (q["client_id"].ToString(), q["redirect_uri"].ToString(), q["nonce"].ToString(), q["code_challenge"].ToString());
            return Results.Redirect($"{q["redirect_uri"]}?code={code}&state={Uri.EscapeDataString(q["state"].ToString())}");
        });
        app.MapPost("/token", async (HttpContext http) =>
        {
            var form = await http.Request.ReadFormAsync();
            if (!idp._codes.TryRemove(form["code"].ToString(), out var issued) || issued.RedirectUri != form["redirect_uri"].ToString()
                || Microsoft.AspNetCore.WebUtilities.Base64UrlTextEncoder.Encode(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) != issued.Challenge)
            {
                return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
            }

            var (email, groups) = idp.SignInAs;
            return Results.Json(new { id_token = idp.Issue(email, groups, audience: issued.ClientId, extra: new Dictionary<string, object> { ["nonce"] = issued.Nonce }), token_type = "Bearer" });
        });
        app.MapGet("/keys", () => Results.Json(new { keys = new object[] { RsaJwk(idp._rsa, "rsa-1"), idp.EcJwk() }.Concat(idp.LaterJwks()) }));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        idp.Issuer = address.TrimEnd('/');
        return idp;
    }

    /// <summary>A token as the IdP would issue it; every part can be bent for the negative cases.</summary>
    public string Issue(
        string email,
        IReadOnlyList<string>? groups = null,
        bool ec = false,
        string? audience = Audience,
        string? issuer = null,
        TimeSpan? expiresIn = null,
        SecurityKey? signWith = null,
        string? subject = null,
        IDictionary<string, object>? extra = null)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["sub"] = subject ?? "idp-subject-" + email,
            ["email"] = email,
            ["name"] = "Name of " + email,
            ["groups"] = (groups ?? []).ToArray(),
        };
        foreach (var (name, value) in extra ?? new Dictionary<string, object>())
        {
            claims[name] = value;
        }

        var key = signWith ?? (ec ? EcKey : RsaKey);
        var algorithm = key is ECDsaSecurityKey ? SecurityAlgorithms.EcdsaSha256 : SecurityAlgorithms.RsaSha256;
        var lifetime = expiresIn ?? TimeSpan.FromMinutes(5);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience,
            Claims = claims,
            IssuedAt = (lifetime < TimeSpan.Zero ? now + lifetime - TimeSpan.FromMinutes(5) : now),
            NotBefore = (lifetime < TimeSpan.Zero ? now + lifetime - TimeSpan.FromMinutes(5) : now),
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(key, algorithm),
        });
    }

    /// <summary>The IdP rotates: a new RSA key appears in its JWKS; tokens signed with it name a kid identity has not seen.</summary>
    public RsaSecurityKey AddRsaKey()
    {
        lock (_laterKeys)
        {
            var rsa = RSA.Create(2048);
            _laterKeys.Add(rsa);
            return new RsaSecurityKey(rsa) { KeyId = $"rsa-{_laterKeys.Count + 1}" };
        }
    }

    private object[] LaterJwks()
    {
        lock (_laterKeys)
        {
            return [.. _laterKeys.Select((rsa, i) => RsaJwk(rsa, $"rsa-{i + 2}"))];
        }
    }

    private static Dictionary<string, string> RsaJwk(RSA rsa, string kid)
    {
        var p = rsa.ExportParameters(false);
        return new() { ["kty"] = "RSA", ["kid"] = kid, ["use"] = "sig", ["alg"] = "RS256", ["n"] = Base64UrlEncoder.Encode(p.Modulus), ["e"] = Base64UrlEncoder.Encode(p.Exponent) };
    }

    private Dictionary<string, string> EcJwk()
    {
        var p = _ec.ExportParameters(false);
        return new() { ["kty"] = "EC", ["kid"] = "ec-1", ["use"] = "sig", ["alg"] = "ES256", ["crv"] = "P-256", ["x"] = Base64UrlEncoder.Encode(p.Q.X), ["y"] = Base64UrlEncoder.Encode(p.Q.Y) };
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _rsa.Dispose();
        _ec.Dispose();
        _laterKeys.ForEach(k => k.Dispose());
    }
}
