using System.Security.Cryptography;
using ControlPlane.Identity.Keys;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ControlPlane.Identity.Tokens;

/// <summary>Who a token is for: the subject's facts that go into claims.</summary>
public sealed record TokenSubject(string Id, PrincipalKind Kind, string Name, IReadOnlyList<string> Bindings, string? SponsorId, string? Fleet, string? ClientId);

public sealed record IssuedToken(string AccessToken, int ExpiresInSeconds);

/// <summary>
/// Mints RFC 9068 access tokens: typ at+jwt, ES256 with the active key's kid, one audience (a service name, or a resource URI per RFC 8707),
/// short lifetime, and the ControlPlane claims every service authorizes on.
/// </summary>
public sealed class TokenIssuer(SigningKeyStore keys, IssuerName issuer, IConfiguration configuration, TokenSettings settings, TimeProvider clock)
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly HashSet<string> _audiences = new(configuration.GetSection("Identity:Audiences").Get<string[]>() ?? [], StringComparer.Ordinal);

    public TimeSpan Lifetime => settings.Lifetime;

    // RFC 8707 resource indicators (absolute URIs, e.g. orchestrator's MCP endpoint): a token for one has it as audience.
    private readonly HashSet<string> _resources = new(configuration.GetSection("Identity:Resources").Get<string[]>() ?? [], StringComparer.Ordinal);

    public bool IsKnownAudience(string audience) => _audiences.Contains(audience);

    public IReadOnlyCollection<string> Audiences => _audiences;

    public bool IsKnownResource(string resource) => _resources.Contains(resource);

    public IReadOnlyCollection<string> Resources => _resources;

    public async Task<IssuedToken> IssueAsync(TokenSubject subject, string audience, CancellationToken cancellationToken)
    {
        if (!IsKnownAudience(audience) && !IsKnownResource(audience))
        {
            throw new ArgumentException($"Unknown audience '{audience}'.", nameof(audience));
        }

        var key = await keys.GetActiveAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var claims = new Dictionary<string, object>
        {
            [ControlPlaneClaims.Subject] = subject.Id,
            [ControlPlaneClaims.Name] = subject.Name,
            [ControlPlaneClaims.Kind] = subject.Kind == PrincipalKind.Agent ? "agent" : "human",
            [ControlPlaneClaims.Roles] = subject.Bindings.ToArray(),
            [JwtRegisteredClaimNames.Jti] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
        };
        if (subject.SponsorId is not null)
        {
            claims[ControlPlaneClaims.Sponsor] = subject.SponsorId;
        }

        if (subject.Fleet is not null)
        {
            claims[ControlPlaneClaims.Fleet] = subject.Fleet;
        }

        if (subject.ClientId is not null)
        {
            claims[ControlPlaneClaims.ClientId] = subject.ClientId;
        }

        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer.Current,
            Audience = audience,
            Claims = claims,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + Lifetime).UtcDateTime,
            TokenType = ControlPlaneClaims.TokenType,
            SigningCredentials = new SigningCredentials(key.SecurityKey, SecurityAlgorithms.EcdsaSha256),
        });
        return new IssuedToken(token, (int)Math.Ceiling(Lifetime.TotalSeconds));
    }

    /// <summary>
    /// An OIDC id_token for a client (aud = client id, typ JWT so it can never pass as an access token): who signed
    /// in, when, and the nonce of the request. Roles are for display; services authorize on access tokens only.
    /// </summary>
    public async Task<string> IssueIdTokenAsync(TokenSubject subject, string? email, string clientId, string? nonce, DateTimeOffset authTime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subject);
        var key = await keys.GetActiveAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var claims = new Dictionary<string, object>
        {
            [ControlPlaneClaims.Subject] = subject.Id,
            [ControlPlaneClaims.Name] = subject.Name,
            ["roles"] = subject.Bindings.ToArray(),
            [JwtRegisteredClaimNames.AuthTime] = authTime.ToUnixTimeSeconds(),
        };
        if (email is not null)
        {
            claims[JwtRegisteredClaimNames.Email] = email;
        }

        if (nonce is not null)
        {
            claims[JwtRegisteredClaimNames.Nonce] = nonce;
        }

        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer.Current,
            Audience = clientId,
            Claims = claims,
            IssuedAt = now.UtcDateTime,
            Expires = (now + Lifetime).UtcDateTime,
            TokenType = "JWT",
            SigningCredentials = new SigningCredentials(key.SecurityKey, SecurityAlgorithms.EcdsaSha256),
        });
    }
}
