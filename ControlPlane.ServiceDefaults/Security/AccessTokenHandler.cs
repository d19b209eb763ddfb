using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ControlPlane.ServiceDefaults.Security;

/// <summary>
/// The one token handler of HTTP (JwtBearer's only entry in TokenHandlers) and of the bus: a JsonWebTokenHandler
/// that takes issuer and keys from <see cref="ITokenIssuerMetadata"/>. A token naming an unknown kid asks for fresh
/// keys and is checked once more, so the first token of a rotated key is accepted (JwtBearer's own
/// RefreshOnIssuerKeyNotFound would only help the next request).
/// </summary>
internal sealed class AccessTokenHandler(ITokenIssuerMetadata metadata) : TokenHandler
{
    /// <summary>Far above any token identity issues; larger ones are refused before parsing.</summary>
    public const int MaxTokenLength = 16 * 1024;

    private readonly JsonWebTokenHandler _jwt = new() { MapInboundClaims = false };

    /// <summary>JwtBearer's entry point; it has no cancellation token to give.</summary>
    public override Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters) =>
        ValidateAsync(token, validationParameters, CancellationToken.None);

    /// <param name="rules">Everything but issuer and keys (<see cref="AccessTokenValidator.Parameters"/>); not modified.</param>
    public async Task<TokenValidationResult> ValidateAsync(string token, TokenValidationParameters rules, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(token) || token.Length > MaxTokenLength)
        {
            return Refused("missing or oversized token");
        }

        var result = await ValidateWithIssuerKeysAsync(token, rules, cancellationToken);
        if (result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            // The store throttles forced fetches, so made-up kids cannot flood identity's JWKS.
            metadata.RequestRefresh();
            result = await ValidateWithIssuerKeysAsync(token, rules, cancellationToken);
        }

        return result;
    }

    private async Task<TokenValidationResult> ValidateWithIssuerKeysAsync(string token, TokenValidationParameters rules, CancellationToken cancellationToken)
    {
        IssuerMetadata issuer;
        try
        {
            issuer = await metadata.GetAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Fail closed: without identity's keys nothing is valid.
            return Refused("signing keys unavailable: " + ex.GetType().Name, ex);
        }

        var parameters = rules.Clone();
        parameters.ValidIssuer = issuer.Issuer;
        parameters.IssuerSigningKeys = issuer.SigningKeys;
        return await _jwt.ValidateTokenAsync(token, parameters);
    }

    private static TokenValidationResult Refused(string reason, Exception? inner = null) =>
        new() { IsValid = false, Exception = new TokenRefusedException(reason, inner) };
}

/// <summary>A refusal by ControlPlane's own rules rather than IdentityModel's; the message is the reason, safe to log.</summary>
public sealed class TokenRefusedException : SecurityTokenValidationException
{
    public TokenRefusedException()
    {
    }

    public TokenRefusedException(string message)
        : base(message)
    {
    }

    public TokenRefusedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
