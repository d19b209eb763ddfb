using ControlPlane.Identity.Keys;
using ControlPlane.Identity.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ControlPlane.Identity.Authorization;

/// <summary>
/// RP-initiated logout: the id_token_hint names who signs out of which client. Its signature and issuer must be
/// identity's own; an expired hint is still accepted (sign-out after the session lapsed is normal).
/// </summary>
public sealed class EndSession(SigningKeyStore keys, IssuerName issuerName, OidcClients clients, SessionEvents sessions)
{
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    /// <summary>Where the browser goes: a registered post-logout URI (with state), or null for the "signed out" page.</summary>
    public async Task<string?> SignOutAsync(string? idTokenHint, string? postLogoutRedirectUri, string? state, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(idTokenHint) || idTokenHint.Length > 16_384)
        {
            return null;
        }

        var published = await keys.GetKeysAsync(cancellationToken);
        var result = await _handler.ValidateTokenAsync(idTokenHint, new TokenValidationParameters
        {
            ValidIssuer = issuerName.Current,
            ValidAudiences = clients.Ids,
            IssuerSigningKeys = published.Select(k => (SecurityKey)k.SecurityKey),
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            ValidTypes = ["JWT"],
            ValidateLifetime = false,
            RequireSignedTokens = true,
        });
        if (!result.IsValid || result.SecurityToken is not JsonWebToken hint || clients.Find(hint.Audiences.FirstOrDefault()) is not { } client)
        {
            return null;
        }

        await sessions.SignedOutAsync(hint.Subject, client.Id, cancellationToken);
        return client.AllowsPostLogoutRedirect(postLogoutRedirectUri)
            ? AuthorizeRules.RedirectWith(postLogoutRedirectUri!, new Dictionary<string, string?> { ["state"] = state })
            : null;
    }
}
