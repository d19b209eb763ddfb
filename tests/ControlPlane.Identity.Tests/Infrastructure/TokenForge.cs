using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Npgsql;

namespace ControlPlane.Identity.Tests.Infrastructure;

/// <summary>
/// Builds attack tokens (RFC 8725). For the ones that need identity's real key it reads the key the way an
/// attacker with the database and the key-encryption key would: from signing_keys, decrypted with KeyProtector
/// and the development key-encryption key the test identity runs with.
/// </summary>
public sealed class TokenForge
{
    private readonly string _issuer;

    private TokenForge(string issuer, string kid, ECDsa key)
    {
        _issuer = issuer;
        Kid = kid;
        Key = key;
    }

    public string Kid { get; }

    public ECDsa Key { get; }

    public static async Task<TokenForge> FromIdentityDatabaseAsync(string connectionString, string issuer)
    {
        var protector = KeyProtector.FromConfiguration(new ConfigurationBuilder().Build(), new HostingEnvironment { EnvironmentName = "Development" },
            "Identity:KeyEncryptionKey", "identity-signing-keys");
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select kid, protected_private_key from signing_keys where activated_at is not null and retired_at is null", connection);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            throw new InvalidOperationException("identity has no active signing key in its database.");
        }

        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(protector.Unprotect((byte[])reader[1]), out _);
        return new TokenForge(issuer, reader.GetString(0), key);
    }

    /// <summary>The claims identity puts in a viewer's token, valid now for <paramref name="audience"/>.</summary>
    public Dictionary<string, object> Claims(string subject, string audience) => new()
    {
        ["iss"] = _issuer,
        ["aud"] = audience,
        ["sub"] = subject,
        ["name"] = subject,
        [ControlPlaneClaims.Kind] = "human",
        [ControlPlaneClaims.Roles] = new[] { "viewer" },
        ["jti"] = Guid.NewGuid().ToString("N"),
        ["iat"] = EpochTime.GetIntDate(DateTime.UtcNow),
        ["nbf"] = EpochTime.GetIntDate(DateTime.UtcNow),
        ["exp"] = EpochTime.GetIntDate(DateTime.UtcNow.AddMinutes(5)),
    };

    /// <summary>Signed with identity's real key (or <paramref name="key"/>): only the claims or header make it wrong.</summary>
    public string Sign(IDictionary<string, object> claims, string type = ControlPlaneClaims.TokenType, ECDsa? key = null, string? kid = null) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            TokenType = type,
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key ?? Key) { KeyId = kid ?? Kid }, SecurityAlgorithms.EcdsaSha256),
        });

    /// <summary>"alg": "none" with an empty signature.</summary>
    public string Unsigned(IDictionary<string, object> claims) =>
        Encode(new Dictionary<string, object> { ["alg"] = "none", ["typ"] = ControlPlaneClaims.TokenType, ["kid"] = Kid }, claims) + ".";

    /// <summary>HS256 with the public key as the HMAC secret (algorithm confusion).</summary>
    public string HmacWithPublicKey(IDictionary<string, object> claims)
    {
        var signingInput = Encode(new Dictionary<string, object> { ["alg"] = "HS256", ["typ"] = ControlPlaneClaims.TokenType, ["kid"] = Kid }, claims);
        var secret = Encoding.UTF8.GetBytes(Key.ExportSubjectPublicKeyInfoPem());
        return signingInput + "." + Base64UrlEncoder.Encode(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>A real token with one claim changed in the payload and the original signature kept.</summary>
    public static string Tamper(string token, string claim, object value)
    {
        var parts = token.Split('.');
        var payload = JsonSerializer.Deserialize<Dictionary<string, object>>(Base64UrlEncoder.Decode(parts[1]))!;
        payload[claim] = value;
        return $"{parts[0]}.{Base64UrlEncoder.Encode(JsonSerializer.Serialize(payload))}.{parts[2]}";
    }

    private static string Encode(IDictionary<string, object> header, IDictionary<string, object> claims) =>
        Base64UrlEncoder.Encode(JsonSerializer.Serialize(header)) + "." + Base64UrlEncoder.Encode(JsonSerializer.Serialize(claims));
}
