using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using ControlPlane.Identity.Keys;
using Microsoft.IdentityModel.Tokens;

namespace ControlPlane.Identity.Principals;

/// <summary>The body of POST /agents/{id}/keys: a public JWK (RFC 7517) of an ES256 key the agent keeps.</summary>
public sealed record AgentKeyRequest(string? Kty, string? Crv, string? X, string? Y, string? Kid, string? Alg, string? Use, string? D);

/// <summary>An agent's public P-256 key for private_key_jwt, checked to be a real point on the curve.</summary>
public sealed record AgentPublicKey(string Kid, string X, string Y)
{
    /// <summary>The stored JWK: only public members, alg pinned to ES256.</summary>
    public string ToJwkJson() => JsonSerializer.Serialize(new PublicJwk("EC", "P-256", X, Y, Kid, "sig", "ES256"), JwkJson.Options);

    public static ECDsaSecurityKey ToSecurityKey(string jwkJson)
    {
        var jwk = JsonSerializer.Deserialize<PublicJwk>(jwkJson, JwkJson.Options)
            ?? throw new InvalidOperationException("A stored agent key is empty.");
        var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = Base64UrlEncoder.DecodeBytes(jwk.X), Y = Base64UrlEncoder.DecodeBytes(jwk.Y) },
        });
        return new ECDsaSecurityKey(ecdsa) { KeyId = jwk.Kid };
    }

    private static class JwkJson
    {
        public static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    }
}

/// <summary>Parses and checks an agent's JWK. Pure: tested without servers.</summary>
public static partial class AgentKeyRules
{
    public static (AgentPublicKey? Key, Dictionary<string, string[]> Errors) Parse(AgentKeyRequest? request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request is null)
        {
            errors["jwk"] = ["Required: a public JWK {kty: EC, crv: P-256, x, y[, kid]}."];
            return (null, errors);
        }

        if (request.D is not null)
        {
            // The point of private_key_jwt is that the private key never leaves the agent.
            errors["d"] = ["Send the public key only: a private key must never leave the agent. Generate a new key pair; this one is exposed."];
        }

        if (request.Kty != "EC")
        {
            errors["kty"] = ["Must be \"EC\": only ES256 (ECDSA P-256) keys are accepted."];
        }

        if (request.Crv != "P-256")
        {
            errors["crv"] = ["Must be \"P-256\"."];
        }

        if (request.Alg is not null && request.Alg != "ES256")
        {
            errors["alg"] = ["Must be \"ES256\" or absent."];
        }

        if (request.Use is not null && request.Use != "sig")
        {
            errors["use"] = ["Must be \"sig\" or absent."];
        }

        if (request.Kid is not null && !KidPattern().IsMatch(request.Kid))
        {
            errors["kid"] = ["1-128 characters of A-Z, a-z, 0-9, '.', '_', '~' or '-' (it appears in URLs)."];
        }

        var x = Coordinate(request.X);
        var y = Coordinate(request.Y);
        if (x is null)
        {
            errors["x"] = ["Required: the base64url x coordinate, 32 bytes."];
        }

        if (y is null)
        {
            errors["y"] = ["Required: the base64url y coordinate, 32 bytes."];
        }

        if (x is not null && y is not null && !IsOnCurve(x, y))
        {
            errors["jwk"] = ["x and y are not a point on P-256."];
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var xText = Base64UrlEncoder.Encode(x);
        var yText = Base64UrlEncoder.Encode(y);
        return (new AgentPublicKey(request.Kid ?? PublicJwk.Thumbprint(xText, yText), xText, yText), errors);
    }

    private static byte[]? Coordinate(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 64)
        {
            return null;
        }

        try
        {
            var bytes = Base64UrlEncoder.DecodeBytes(text);
            return bytes.Length == 32 ? bytes : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static bool IsOnCurve(byte[] x, byte[] y)
    {
        try
        {
            using var key = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x, Y = y } });
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._~-]{1,128}$", RegexOptions.CultureInvariant)]
    private static partial Regex KidPattern();
}
