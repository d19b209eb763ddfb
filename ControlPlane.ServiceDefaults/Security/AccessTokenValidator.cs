using System.Security.Claims;
using Microsoft.Extensions.Configuration;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ControlPlane.ServiceDefaults.Security;

/// <summary>The verdict on a presented token. <see cref="Failure"/> is safe to log: it never contains the token.</summary>
public sealed record TokenCheck(ClaimsIdentity? Identity, string? Failure)
{
    public bool IsValid => Identity is not null;
}

/// <summary>
/// Validates ControlPlane access tokens the same way for HTTP and for bus messages (RFC 8725 practice):
/// ES256 only (no "none", no HMAC with a public key), typ at+jwt, issuer and audience of this service,
/// lifetime with 30 s skew, a known kid from identity's JWKS, and a principal that is not revoked.
/// </summary>
public sealed class AccessTokenValidator(ITokenIssuerMetadata metadata, IConfiguration configuration, IPrincipalRevocations revocations)
{
    public const string Algorithm = SecurityAlgorithms.EcdsaSha256;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public string Audience { get; } = configuration["Identity:Audience"] ?? throw new InvalidOperationException(
        "Identity:Audience is not set: each service names the audience its tokens must carry (appsettings.json).");

    public async Task<TokenCheck> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(token) || token.Length > 16 * 1024)
        {
            return new TokenCheck(null, "missing or oversized token");
        }

        IssuerMetadata issuer;
        try
        {
            issuer = await metadata.GetAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Fail closed: without identity's keys nothing is valid.
            return new TokenCheck(null, "signing keys unavailable: " + ex.GetType().Name);
        }

        var result = await _handler.ValidateTokenAsync(token, Parameters(issuer));
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            metadata.RequestRefresh();
            issuer = await metadata.GetAsync(cancellationToken);
            result = await _handler.ValidateTokenAsync(token, Parameters(issuer));
        }

        if (!result.IsValid)
        {
            return new TokenCheck(null, Describe(result.Exception));
        }

        var subject = result.ClaimsIdentity.FindFirst(ControlPlaneClaims.Subject)?.Value;
        var issuedAt = result.SecurityToken is JsonWebToken jwt ? jwt.IssuedAt : DateTime.MinValue;
        if (string.IsNullOrEmpty(subject))
        {
            return new TokenCheck(null, "token has no subject");
        }

        if (await revocations.IsRevokedAsync(subject, new DateTimeOffset(issuedAt, TimeSpan.Zero), cancellationToken))
        {
            return new TokenCheck(null, "principal revoked");
        }

        return new TokenCheck(result.ClaimsIdentity, null);
    }

    private TokenValidationParameters Parameters(IssuerMetadata issuer) => new()
    {
        ValidIssuer = issuer.Issuer,
        ValidAudience = Audience,
        IssuerSigningKeys = issuer.SigningKeys,
        ValidAlgorithms = [Algorithm],
        ValidTypes = [ControlPlaneClaims.TokenType],
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ValidateIssuerSigningKey = true,
        ClockSkew = TimeSpan.FromSeconds(30),
        NameClaimType = ControlPlaneClaims.Name,
        RoleClaimType = ControlPlaneClaims.Roles,
        AuthenticationType = "Bearer",
    };

    private static string Describe(Exception? ex) => ex switch
    {
        SecurityTokenExpiredException => "token expired",
        SecurityTokenNotYetValidException => "token not yet valid",
        SecurityTokenInvalidIssuerException => "wrong issuer",
        SecurityTokenInvalidAudienceException => "wrong audience",
        SecurityTokenInvalidTypeException => "wrong token type (typ)",
        SecurityTokenInvalidAlgorithmException => "algorithm not allowed",
        SecurityTokenSignatureKeyNotFoundException => "unknown signing key (kid)",
        SecurityTokenInvalidSignatureException => "bad signature",
        SecurityTokenNoExpirationException => "token has no expiry",
        SecurityTokenMalformedException => "malformed token",
        null => "invalid token",
        _ => ex.GetType().Name,
    };
}

/// <summary>
/// Tells whether tokens of a principal issued at a given time must be refused because the principal or the
/// credential was revoked after. Identity knows; other services learn it from identity's revocation feed.
/// </summary>
public interface IPrincipalRevocations
{
    ValueTask<bool> IsRevokedAsync(string subject, DateTimeOffset issuedAt, CancellationToken cancellationToken);
}
