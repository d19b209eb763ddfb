using ControlPlane.Identity.Principals;
using Microsoft.IdentityModel.JsonWebTokens;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.IdentityModel.Tokens;

namespace ControlPlane.Identity.ExternalIdp;

/// <summary>Identity:ExternalIdp:* — which corporate IdP humans come from and how to read its tokens.</summary>
public sealed record ExternalIdpSettings(
    Uri? Authority,
    string? Audience,
    string? Issuer,
    string SubjectClaim,
    string NameClaim,
    string GroupsClaim,
    bool AllowInsecureMetadata,
    IReadOnlyList<string> Algorithms,
    GroupBindingMap GroupBindings)
{
    public bool IsConfigured => Authority is not null;

    public static ExternalIdpSettings FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection("Identity:ExternalIdp");
        Uri? authority = null;
        if (section["Authority"] is { Length: > 0 } text && !Uri.TryCreate(text.TrimEnd('/') + "/", UriKind.Absolute, out authority))
        {
            throw new InvalidOperationException($"Identity:ExternalIdp:Authority '{text}' is not an absolute URL.");
        }

        var audience = section["Audience"];
        if (authority is not null && string.IsNullOrEmpty(audience))
        {
            throw new InvalidOperationException("Identity:ExternalIdp:Audience is required with an Authority: the IdP's tokens must be meant for the control plane.");
        }

        var algorithms = section.GetSection("Algorithms").Get<string[]>() is { Length: > 0 } configured
            ? configured
            : [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSsaPssSha256];
        if (algorithms.Any(a => a.StartsWith("HS", StringComparison.Ordinal) || a == "none"))
        {
            throw new InvalidOperationException("Identity:ExternalIdp:Algorithms may hold only asymmetric algorithms (RS256, ES256, PS256, …).");
        }

        return new ExternalIdpSettings(authority, audience, section["Issuer"], section["SubjectClaim"] ?? "email", section["NameClaim"] ?? "name",
            section["GroupsClaim"] ?? "groups", section.GetValue<bool>("AllowInsecureMetadata"), algorithms,
            GroupBindingMap.FromConfiguration(section.GetSection("GroupBindings")));
    }
}

/// <summary>
/// Validates the corporate IdP's tokens for RFC 8693 token exchange: discovery + JWKS (cached, refreshed when a
/// token names an unknown kid), issuer, audience, lifetime, asymmetric signature; then reads who the human is.
/// </summary>
public sealed class ExternalIdentityProvider
{
    private readonly ExternalIdpSettings _settings;
    private readonly DiscoveryIssuerMetadata? _metadata;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public ExternalIdentityProvider(ExternalIdpSettings settings, IHttpClientFactory httpClients)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(httpClients);
        _settings = settings;
        if (settings.Authority is { } authority)
        {
            _metadata = DiscoveryIssuerMetadata.ForAuthority(authority, httpClients.CreateClient("external-idp"), requireHttps: !settings.AllowInsecureMetadata);
        }
    }

    public ExternalIdpSettings Settings => _settings;

    /// <summary>The human the token asserts, or why not. Failures are safe to log: they never hold the token.</summary>
    public Task<(ExternalLogin? Login, string? Failure, bool Unavailable)> ValidateAsync(string token, CancellationToken cancellationToken) =>
        ValidateAsync(token, null, null, cancellationToken);

    /// <summary>
    /// As above for an id_token of the sign-in redirect: its audience is identity's client id at the IdP and its
    /// nonce must be the one identity sent.
    /// </summary>
    public async Task<(ExternalLogin? Login, string? Failure, bool Unavailable)> ValidateAsync(string token, string? audience, string? nonce, CancellationToken cancellationToken)
    {
        if (_metadata is null)
        {
            return (null, "no external IdP is configured", false);
        }

        IssuerMetadata metadata;
        try
        {
            metadata = await _metadata.GetAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return (null, "the IdP's discovery document or keys are unavailable", true);
        }

        var result = await _handler.ValidateTokenAsync(token, Parameters(metadata, audience));
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            // The IdP may have rotated its keys: fetch them again (the cache throttles how often).
            _metadata.RequestRefresh();
            metadata = await _metadata.GetAsync(cancellationToken);
            result = await _handler.ValidateTokenAsync(token, Parameters(metadata, audience));
        }

        if (!result.IsValid)
        {
            return (null, Describe(result.Exception), false);
        }

        if (nonce is not null && result.ClaimsIdentity.FindFirst("nonce")?.Value != nonce)
        {
            return (null, "the id_token's nonce is not the one sent", false);
        }

        var identity = result.ClaimsIdentity;
        var id = identity.FindFirst(_settings.SubjectClaim)?.Value?.Trim();
        var subject = identity.FindFirst("sub")?.Value;
        if (string.IsNullOrEmpty(id) || id.Length > 256 || string.IsNullOrEmpty(subject))
        {
            return (null, $"the token lacks '{_settings.SubjectClaim}' or 'sub'", false);
        }

        if (_settings.SubjectClaim == "email")
        {
            // Mail addresses are case-insensitive in practice; principal ids are compared exactly.
            id = id.ToLowerInvariant();
            if (identity.FindFirst("email_verified")?.Value is "false" or "False")
            {
                return (null, "the IdP says the email is not verified", false);
            }
        }

        var groups = identity.FindAll(_settings.GroupsClaim).Select(c => c.Value).Where(v => v.Length > 0).ToList();
        var name = identity.FindFirst(_settings.NameClaim)?.Value is { Length: > 0 and <= 200 } display ? display : id;
        return (new ExternalLogin(id, name, identity.FindFirst("email")?.Value?.ToLowerInvariant(), ((JsonWebToken)result.SecurityToken).Issuer, subject, groups), null, false);
    }

    private TokenValidationParameters Parameters(IssuerMetadata metadata, string? audience) => new()
    {
        ValidIssuer = _settings.Issuer ?? metadata.Issuer,
        ValidAudience = audience ?? _settings.Audience,
        IssuerSigningKeys = metadata.SigningKeys,
        ValidAlgorithms = _settings.Algorithms,
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ValidateLifetime = true,
        ClockSkew = TimeSpan.FromSeconds(30),
        NameClaimType = _settings.NameClaim,
        RoleClaimType = _settings.GroupsClaim,
    };

    private static string Describe(Exception? ex) => ex switch
    {
        SecurityTokenExpiredException => "IdP token expired",
        SecurityTokenNotYetValidException => "IdP token not yet valid",
        SecurityTokenInvalidIssuerException => "IdP token has the wrong issuer",
        SecurityTokenInvalidAudienceException => "IdP token is for another audience",
        SecurityTokenInvalidAlgorithmException => "IdP token algorithm not allowed",
        SecurityTokenSignatureKeyNotFoundException => "IdP token signed by an unknown key",
        SecurityTokenInvalidSignatureException => "IdP token signature does not verify",
        SecurityTokenNoExpirationException => "IdP token has no expiry",
        SecurityTokenMalformedException => "IdP token is malformed",
        null => "invalid IdP token",
        _ => "invalid IdP token (" + ex.GetType().Name + ")",
    };
}
