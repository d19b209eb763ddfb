using System.Security.Claims;
using System.Security.Cryptography;
using ControlPlane.Contracts;
using ControlPlane.Fleet.Signing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ControlPlane.Fleet.Credentials;

/// <summary>The claims of a package credential once its signature, issuer, type and lifetime checked out.</summary>
public sealed record CredentialClaims(string Jti, IReadOnlyList<string> Audience, string Environment, string Action, Guid Package, DateTimeOffset ExpiresAt);

/// <summary>
/// Package credentials as compact JWS (ES256, fleet's work-package key): iss fleet, sub the runner, aud the
/// package's target node ids, env, action, pkg (work id), jti, exp the package expiry. Typed
/// <see cref="TokenType"/> so neither an access token nor a work package is ever taken for one. No I/O.
/// </summary>
public static class CredentialTokens
{
    public const string TokenType = "cp-work-credential+jwt";
    public const string EnvironmentClaim = "env";
    public const string ActionClaim = "action";
    public const string PackageClaim = "pkg";
    private static readonly TimeSpan NotBeforeSkew = TimeSpan.FromSeconds(30);
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public static string Create(FleetKey key, WorkPackage package, string jti)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(package);
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = WorkPackagesIssuer,
            Subject = new ClaimsIdentity([new Claim(JwtRegisteredClaimNames.Sub, package.Audience)]),
            IssuedAt = package.NotBefore.UtcDateTime,
            NotBefore = package.NotBefore.UtcDateTime,
            Expires = package.ExpiresAt.UtcDateTime,
            TokenType = TokenType,
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key.Key) { KeyId = key.KeyId }, SecurityAlgorithms.EcdsaSha256),
            Claims = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                [JwtRegisteredClaimNames.Jti] = jti,
                [EnvironmentClaim] = package.Environment,
                [ActionClaim] = package.ActionKind,
                [PackageClaim] = package.WorkId.ToString("D"),
            },
        };
        foreach (var target in package.Targets)
        {
            descriptor.Audiences.Add(target);
        }

        return Handler.CreateToken(descriptor);
    }

    /// <summary>The claims when the token is fleet's, unexpired and well formed; otherwise null and why.</summary>
    public static async Task<(CredentialClaims? Claims, string? Failure)> ReadAsync(string? token, FleetKeySet keys, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (string.IsNullOrWhiteSpace(token) || token.Length > 8192)
        {
            return (null, "no token");
        }

        var imported = keys.Keys.Select(k => (k.KeyId, Key: SigningKeyIds.ImportPublicKey(k.PublicKey, out _))).Where(k => k.Key is not null).ToList();
        TokenValidationResult result;
        try
        {
            result = await Handler.ValidateTokenAsync(token, new TokenValidationParameters
            {
                ValidIssuer = WorkPackagesIssuer,
                ValidateAudience = false, // compared with the caller's audiences by IntrospectionRules
                ValidTypes = [TokenType],
                ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
                IssuerSigningKeys = imported.Select(k => (SecurityKey)new ECDsaSecurityKey(k.Key!) { KeyId = k.KeyId }).ToList(),
                RequireExpirationTime = true,
                LifetimeValidator = (notBefore, expires, _, _) =>
                    expires is { } e && e > now.UtcDateTime && (notBefore is null || notBefore <= now.UtcDateTime + NotBeforeSkew),
            });
        }
        finally
        {
            imported.ForEach(k => k.Key!.Dispose());
        }

        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return (null, result.Exception?.GetType().Name ?? "invalid token");
        }

        if (!jwt.TryGetPayloadValue<string>(JwtRegisteredClaimNames.Jti, out var jti) || string.IsNullOrEmpty(jti)
            || !jwt.TryGetPayloadValue<string>(EnvironmentClaim, out var environment)
            || !jwt.TryGetPayloadValue<string>(ActionClaim, out var action)
            || !jwt.TryGetPayloadValue<string>(PackageClaim, out var package) || !Guid.TryParse(package, out var workId))
        {
            return (null, "the token lacks a credential claim");
        }

        var audience = jwt.Audiences.ToList();
        return audience.Count == 0
            ? (null, "the token names no audience")
            : (new CredentialClaims(jti, audience, environment, action, workId, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero)), null);
    }

    /// <summary>128 random bits, base64url.</summary>
    public static string NewJti() => System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

    private const string WorkPackagesIssuer = Work.WorkPackages.Issuer;
}
