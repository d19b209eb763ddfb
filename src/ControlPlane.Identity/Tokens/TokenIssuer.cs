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
/// Mints RFC 9068 access tokens: typ at+jwt, ES256 with the active key's kid, one audience (a service name),
/// short lifetime, and the ControlPlane claims every service authorizes on.
/// </summary>
public sealed class TokenIssuer(SigningKeyStore keys, IssuerName issuer, IConfiguration configuration, TokenSettings settings, TimeProvider clock)
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly HashSet<string> _audiences = new(configuration.GetSection("Identity:Audiences").Get<string[]>() ?? [], StringComparer.Ordinal);

    public TimeSpan Lifetime => settings.Lifetime;

    public bool IsKnownAudience(string audience) => _audiences.Contains(audience);

    public IReadOnlyCollection<string> Audiences => _audiences;

    public async Task<IssuedToken> IssueAsync(TokenSubject subject, string audience, CancellationToken cancellationToken)
    {
        if (!IsKnownAudience(audience))
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
}
