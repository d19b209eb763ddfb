using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ControlPlane.Identity.ExternalIdp;
using ControlPlane.Identity.Principals;
using ControlPlane.Identity.Tokens;
using Microsoft.AspNetCore.WebUtilities;

namespace ControlPlane.Identity.Authorization;

/// <summary>A sign-in handed to the corporate IdP: the console's request, and identity's own PKCE verifier and nonce.</summary>
public sealed record PendingExternalLogin(AuthorizeRequest Request, string Verifier, string Nonce);

/// <summary>
/// Outside Development the console's sign-in goes through the corporate IdP: identity is itself a confidential (or
/// public, PKCE) client of it (Identity:ExternalIdp:ClientId, optional :ClientSecret), sends the browser to the
/// IdP's authorization endpoint, takes the code back at /connect/callback/external, redeems it for the IdP's
/// id_token, maps the human as token exchange does (groups to bindings) and only then issues its own code.
/// </summary>
public sealed partial class ExternalAuthorization(
    ExternalIdentityProvider idp,
    PrincipalWriter writer,
    AuthorizationCodeStore codes,
    IssuerName issuerName,
    IHttpClientFactory httpClients,
    IConfiguration configuration,
    TimeProvider clock,
    ILogger<ExternalAuthorization> logger)
{
    public const string CallbackPath = "/connect/callback/external";
    private const string PendingKind = "oidc:pending:";
    private static readonly TimeSpan PendingLifetime = TimeSpan.FromMinutes(10);
    private readonly string? _clientId = configuration["Identity:ExternalIdp:ClientId"];
    private readonly string? _clientSecret = configuration["Identity:ExternalIdp:ClientSecret"];
    private (string Authorize, string Token)? _endpoints;

    public bool IsConfigured => idp.Settings.IsConfigured && !string.IsNullOrEmpty(_clientId);

    /// <summary>Where to send the browser: the IdP's authorization endpoint with identity's own state, nonce and PKCE challenge.</summary>
    public async Task<string> BeginAsync(AuthorizeRequest request, CancellationToken cancellationToken)
    {
        var (authorize, _) = await EndpointsAsync(cancellationToken);
        var verifier = Base64UrlTextEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var nonce = Base64UrlTextEncoder.Encode(RandomNumberGenerator.GetBytes(16));
        var state = await codes.PutAsync(PendingKind, new PendingExternalLogin(request, verifier, nonce), PendingLifetime);
        return QueryHelpers.AddQueryString(authorize, new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = _clientId,
            ["redirect_uri"] = issuerName.Current + CallbackPath,
            ["scope"] = "openid profile email",
            ["state"] = state,
            ["nonce"] = nonce,
            ["code_challenge"] = Base64UrlTextEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))),
            ["code_challenge_method"] = AuthorizeRules.S256,
        });
    }

    /// <summary>The IdP came back: the console's request and identity's code for it, or why not (safe to show).</summary>
    public async Task<(AuthorizeRequest? Request, string? Code, string? Failure)> CompleteAsync(string? state, string? code, string? error, CancellationToken cancellationToken)
    {
        var pending = state is null ? null : await codes.TakeAsync<PendingExternalLogin>(PendingKind, state);
        if (pending is null)
        {
            return (null, null, "The sign-in is unknown or took longer than 10 minutes; start again.");
        }

        if (error is not null || string.IsNullOrEmpty(code))
        {
            return (pending.Request, null, "The corporate IdP refused the sign-in.");
        }

        var idToken = await RedeemAtIdpAsync(code, pending.Verifier, cancellationToken);
        if (idToken is null)
        {
            return (pending.Request, null, "The corporate IdP did not redeem its code.");
        }

        var (login, failure, _) = await idp.ValidateAsync(idToken, _clientId, pending.Nonce, cancellationToken);
        if (login is null)
        {
            LogRefused(logger, failure!);
            return (pending.Request, null, "The corporate IdP's id_token was refused: " + failure + ".");
        }

        var signedIn = await writer.SignInExternalAsync(login, idp.Settings.GroupBindings.Map(login.Groups), cancellationToken);
        if (signedIn.Status != WriteStatus.Done)
        {
            LogRefused(logger, signedIn.Detail ?? "refused");
            return (pending.Request, null, signedIn.Detail ?? "The principal cannot sign in.");
        }

        var request = pending.Request;
        var issued = await codes.IssueAsync(new IssuedCode(request.ClientId, request.RedirectUri, request.CodeChallenge, request.Nonce, signedIn.Value!.Id, clock.GetUtcNow()));
        return (request, issued, null);
    }

    private async Task<string?> RedeemAtIdpAsync(string code, string verifier, CancellationToken cancellationToken)
    {
        var (_, tokenEndpoint) = await EndpointsAsync(cancellationToken);
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = issuerName.Current + CallbackPath,
            ["client_id"] = _clientId!,
            ["code_verifier"] = verifier,
        };
        if (!string.IsNullOrEmpty(_clientSecret))
        {
            form["client_secret"] = _clientSecret;
        }

        using var http = httpClients.CreateClient("external-idp");
        using var response = await http.PostAsync(new Uri(tokenEndpoint), new FormUrlEncodedContent(form), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            LogRefused(logger, $"IdP token endpoint answered {(int)response.StatusCode}");
            return null;
        }

        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return body.RootElement.TryGetProperty("id_token", out var idToken) ? idToken.GetString() : null;
    }

    private async Task<(string Authorize, string Token)> EndpointsAsync(CancellationToken cancellationToken)
    {
        if (_endpoints is { } known)
        {
            return known;
        }

        using var http = httpClients.CreateClient("external-idp");
        var discovery = new Uri(idp.Settings.Authority!, ".well-known/openid-configuration");
        using var document = JsonDocument.Parse(await http.GetStringAsync(discovery, cancellationToken));
        var root = document.RootElement;
        var endpoints = (root.GetProperty("authorization_endpoint").GetString()!, root.GetProperty("token_endpoint").GetString()!);
        if (!idp.Settings.AllowInsecureMetadata && !(endpoints.Item1.StartsWith("https://", StringComparison.Ordinal) && endpoints.Item2.StartsWith("https://", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException("The corporate IdP's endpoints must be https.");
        }

        _endpoints = endpoints;
        return endpoints;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Corporate IdP sign-in refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);
}
