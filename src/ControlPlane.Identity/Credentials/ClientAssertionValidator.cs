using ControlPlane.Identity.Principals;
using ControlPlane.Identity.Tokens;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ControlPlane.Identity.Credentials;

/// <summary>The verdict on a client assertion. <see cref="Failure"/> is safe to log and to return; it never holds the assertion.</summary>
public sealed record AssertionCheck(Principal? Agent, string? Failure, bool Unavailable = false)
{
    public static AssertionCheck Refused(string failure) => new(null, failure);
}

/// <summary>
/// private_key_jwt (RFC 7523 §3, RFC 7521): the agent signs a short JWT with its own key. iss = sub = client_id,
/// aud = the token endpoint (or the issuer), exp required and short, jti used once, ES256 only, signed by a
/// live key registered for that agent.
/// </summary>
public sealed class ClientAssertionValidator(PrincipalStore principals, AssertionReplayCache replay, TokenSettings settings, TimeProvider clock)
{
    public const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(30);
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    /// <summary>The client an assertion claims to be (unverified: for rate limiting and logs), or null.</summary>
    public static string? ClaimedClient(string assertion)
    {
        try
        {
            var jwt = new JsonWebToken(assertion);
            return jwt.TryGetPayloadValue<string>("iss", out var iss) && iss is { Length: > 0 and <= 256 } ? iss : null;
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException)
        {
            return null;
        }
    }

    public async Task<AssertionCheck> ValidateAsync(string assertion, string? clientIdParameter, string issuer, CancellationToken cancellationToken)
    {
        var clientId = ClaimedClient(assertion);
        if (clientId is null)
        {
            return AssertionCheck.Refused("the assertion is not a JWT with an iss claim");
        }

        if (clientIdParameter is not null && clientIdParameter != clientId)
        {
            return AssertionCheck.Refused("client_id differs from the assertion's iss");
        }

        var agent = await principals.FindAsync(clientId, cancellationToken);
        if (agent is not { Kind: PrincipalKind.Agent, IsActive: true })
        {
            return AssertionCheck.Refused("unknown or revoked client");
        }

        var keys = await principals.LiveKeysAsync(clientId, cancellationToken);
        if (keys.Count == 0)
        {
            return AssertionCheck.Refused("the client has no live registered key");
        }

        var result = await _handler.ValidateTokenAsync(assertion, new TokenValidationParameters
        {
            ValidIssuer = clientId,
            ValidAudiences = [issuer + "/connect/token", issuer],
            IssuerSigningKeys = keys.Select(k => (SecurityKey)AgentPublicKey.ToSecurityKey(k.Jwk)).ToList(),
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateLifetime = true,
            ClockSkew = Skew,
        });
        if (!result.IsValid)
        {
            return AssertionCheck.Refused(result.Exception switch
            {
                SecurityTokenInvalidAudienceException => "wrong audience (use the token endpoint URL)",
                SecurityTokenExpiredException => "assertion expired",
                SecurityTokenNotYetValidException => "assertion not yet valid",
                SecurityTokenInvalidAlgorithmException => "algorithm not allowed (ES256 only)",
                SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "signature does not verify with a live registered key",
                SecurityTokenInvalidIssuerException => "wrong issuer",
                SecurityTokenNoExpirationException => "assertion has no exp",
                _ => "invalid assertion",
            });
        }

        var jwt = (JsonWebToken)result.SecurityToken;
        var now = clock.GetUtcNow().UtcDateTime;
        if (jwt.Subject != clientId)
        {
            return AssertionCheck.Refused("sub must equal iss (the client id)");
        }

        if (jwt.ValidTo - now > settings.MaxClientAssertionLifetime + Skew ||
            (jwt.IssuedAt != DateTime.MinValue && jwt.ValidTo - jwt.IssuedAt > settings.MaxClientAssertionLifetime))
        {
            return AssertionCheck.Refused($"assertion lifetime exceeds {settings.MaxClientAssertionLifetime.TotalSeconds:0} s");
        }

        if (string.IsNullOrEmpty(jwt.Id) || jwt.Id.Length > 256)
        {
            return AssertionCheck.Refused("jti is required");
        }

        var keepFor = jwt.ValidTo + Skew - now;
        switch (await replay.TryUseOnceAsync(clientId, jwt.Id, keepFor > TimeSpan.FromSeconds(1) ? keepFor : TimeSpan.FromSeconds(1), cancellationToken))
        {
            case null:
                return new AssertionCheck(null, "replay cache unavailable", Unavailable: true);
            case false:
                return AssertionCheck.Refused("jti already used (replay)");
        }

        if (keys.FirstOrDefault(k => k.KeyId == jwt.SigningKey?.KeyId) is { } used)
        {
            await principals.TouchCredentialAsync(used.CredentialId, cancellationToken);
        }

        return new AssertionCheck(agent, null);
    }
}
