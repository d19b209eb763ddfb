using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ControlPlane.Identity.Tests.Infrastructure;

/// <summary>An agent's own ES256 key pair: the public JWK to register, and client assertions (RFC 7523) it signs.</summary>
public sealed class AgentKey(string kid) : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public string Kid { get; } = kid;

    public object PublicJwk
    {
        get
        {
            var p = _key.ExportParameters(false);
            return new { kty = "EC", crv = "P-256", x = Base64UrlEncoder.Encode(p.Q.X), y = Base64UrlEncoder.Encode(p.Q.Y), kid = Kid };
        }
    }

    public string Assertion(string clientId, string audience, TimeSpan? lifetime = null, string? jti = null, string? subject = null, bool withExp = true)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["iss"] = clientId,
            ["sub"] = subject ?? clientId,
            ["aud"] = audience,
            ["jti"] = jti ?? Guid.NewGuid().ToString("N"),
            ["iat"] = EpochTime.GetIntDate(now),
        };
        if (withExp)
        {
            claims["exp"] = EpochTime.GetIntDate(now + (lifetime ?? TimeSpan.FromMinutes(1)));
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(_key) { KeyId = Kid }, SecurityAlgorithms.EcdsaSha256),
        });
    }

    public static Dictionary<string, string> Form(string assertion, string audience = "identity") => new()
    {
        ["grant_type"] = "client_credentials",
        ["audience"] = audience,
        ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ["client_assertion"] = assertion,
    };

    public void Dispose() => _key.Dispose();
}
