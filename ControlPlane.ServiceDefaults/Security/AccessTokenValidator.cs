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
/// The rules for ControlPlane access tokens (RFC 8725 practice), held once for HTTP and bus: ES256 only (no "none",
/// no HMAC with a public key), typ at+jwt, issuer and audience of this service, lifetime with 30 s skew, a known kid
/// from identity's JWKS, and a principal that is not revoked. JwtBearer is configured from <see cref="Handler"/>,
/// <see cref="Parameters"/>, <see cref="RefusePrincipalAsync"/> and <see cref="Describe"/>; bus consumers call
/// <see cref="ValidateAsync"/>.
/// </summary>
public sealed class AccessTokenValidator
{
    public const string Algorithm = SecurityAlgorithms.EcdsaSha256;
    private readonly IPrincipalRevocations _revocations;

    public AccessTokenValidator(ITokenIssuerMetadata metadata, IConfiguration configuration, IPrincipalRevocations revocations)
    {
        Audience = configuration["Identity:Audience"] ?? throw new InvalidOperationException(
            "Identity:Audience is not set: each service names the audience its tokens must carry (appsettings.json).");
        Handler = new AccessTokenHandler(metadata);
        Parameters = CreateParameters(Audience);
        _revocations = revocations;
    }

    public string Audience { get; }

    internal AccessTokenHandler Handler { get; }

    /// <summary>Every rule but issuer and keys, which <see cref="Handler"/> adds from identity's metadata at each check.</summary>
    internal TokenValidationParameters Parameters { get; }

    public async Task<TokenCheck> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var result = await Handler.ValidateAsync(token, Parameters, cancellationToken);
        var failure = result.IsValid
            ? await RefusePrincipalAsync(new ClaimsPrincipal(result.ClaimsIdentity), result.SecurityToken, cancellationToken)
            : Describe(result.Exception);
        return failure is null ? new TokenCheck(result.ClaimsIdentity, null) : new TokenCheck(null, failure);
    }

    /// <summary>Why a token that passed validation must still be refused (no subject, principal revoked after it was issued); null when it need not.</summary>
    internal async ValueTask<string?> RefusePrincipalAsync(ClaimsPrincipal principal, SecurityToken token, CancellationToken cancellationToken)
    {
        var subject = principal.FindFirst(ControlPlaneClaims.Subject)?.Value;
        if (string.IsNullOrEmpty(subject))
        {
            return "token has no subject";
        }

        var issuedAt = token is JsonWebToken jwt ? jwt.IssuedAt : DateTime.MinValue;
        return await _revocations.IsRevokedAsync(subject, new DateTimeOffset(issuedAt, TimeSpan.Zero), cancellationToken)
            ? "principal revoked"
            : null;
    }

    /// <summary>The reason logged and sent in WWW-Authenticate; built from the exception type only, never from the token.</summary>
    public static string Describe(Exception? ex) => ex switch
    {
        TokenRefusedException refused => refused.Message,
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

    private static TokenValidationParameters CreateParameters(string audience) => new()
    {
        ValidAudience = audience,
        ValidAlgorithms = [Algorithm],
        ValidTypes = [ControlPlaneClaims.TokenType],
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ValidateIssuerSigningKey = true,
        ClockSkew = TimeSpan.FromSeconds(30),
        NameClaimType = ControlPlaneClaims.Name,
        RoleClaimType = ControlPlaneClaims.Roles,
        AuthenticationType = BearerAuthentication.SchemeName,
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
