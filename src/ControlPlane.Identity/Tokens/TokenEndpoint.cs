using System.Net.Http.Headers;
using System.Text;
using ControlPlane.Identity.Authorization;
using ControlPlane.Identity.Credentials;
using ControlPlane.Identity.ExternalIdp;
using ControlPlane.Identity.Principals;
using ControlPlane.ServiceDefaults.Security.RateLimiting;
using Microsoft.Extensions.Primitives;

namespace ControlPlane.Identity.Tokens;

/// <summary>Identity:RateLimits:PerClient (requests naming a client) and :PerAddress (everything else, per remote address).</summary>
public sealed record TokenRateLimits(RateLimitRule PerClient, RateLimitRule PerAddress)
{
    public static TokenRateLimits FromConfiguration(IConfiguration configuration) => new(
        RateLimitRule.FromConfiguration(configuration, "Identity:RateLimits:PerClient", "token-client", 30, TimeSpan.FromMinutes(1)),
        RateLimitRule.FromConfiguration(configuration, "Identity:RateLimits:PerAddress", "token-address", 60, TimeSpan.FromMinutes(1)));
}

/// <summary>
/// POST /connect/token. Grants: client_credentials (agents; client_secret_basic, client_secret_post or
/// private_key_jwt), RFC 8693 token exchange (humans, with a token of the corporate IdP, or an interactive
/// client's identity token: <see cref="InteractiveGrants"/>) and authorization_code with PKCE. Every request is
/// rate-limited per client id, or per address when it names none; Redis unreachable means 503 (fail closed).
/// Wrong secrets count toward a lock. Errors are RFC 6749 §5.2 bodies; nothing secret is ever logged.
/// </summary>
public sealed partial class TokenEndpoint(
    PrincipalStore principals,
    PrincipalWriter writer,
    TokenIssuer issuer,
    IssuerName issuerName,
    ClientAssertionValidator assertions,
    CredentialLockout lockout,
    ExternalIdentityProvider idp,
    InteractiveGrants interactive,
    RedisRateLimiter limiter,
    TokenRateLimits limits,
    TimeProvider clock,
    ILogger<TokenEndpoint> logger)
{
    public const string ClientCredentials = "client_credentials";
    public const string TokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange";
    public const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
    public const string JwtTokenType = "urn:ietf:params:oauth:token-type:jwt";
    public const string IdTokenType = "urn:ietf:params:oauth:token-type:id_token";
    public const string SecretMethod = "client_secret";

    private enum ClientMethod
    {
        None,
        SecretBasic,
        SecretPost,
        PrivateKeyJwt,
    }

    private sealed record ClientAuthentication(ClientMethod Method, string? ClientId, string? Secret, string? Assertion);

    public async Task<IResult> HandleAsync(HttpContext http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers.Pragma = "no-cache";
        if (!http.Request.HasFormContentType)
        {
            return Error("invalid_request", "The token request must be application/x-www-form-urlencoded.");
        }

        var form = await http.Request.ReadFormAsync(cancellationToken);
        var grantType = form["grant_type"].ToString();
        if (grantType is not (ClientCredentials or TokenExchange or InteractiveGrants.AuthorizationCode))
        {
            return Error("unsupported_grant_type", $"Grant type '{grantType}' is not supported; use {ClientCredentials}, {InteractiveGrants.AuthorizationCode} or {TokenExchange}.");
        }

        var audience = form["audience"].ToString();
        if (form.ContainsKey("resource"))
        {
            // RFC 8707: the token's audience is the resource the client names (an MCP server's canonical URI).
            if (ResourceTarget(grantType, form["resource"], audience) is { } refusal)
            {
                return refusal;
            }

            audience = form["resource"].ToString();
        }
        else if (grantType != InteractiveGrants.AuthorizationCode && (string.IsNullOrEmpty(audience) || !issuer.IsKnownAudience(audience)))
        {
            return Error("invalid_target", $"Ask for one audience among: {string.Join(", ", issuer.Audiences.Order(StringComparer.Ordinal))}.");
        }

        if (ReadClient(http.Request, form) is not { } client)
        {
            return Error("invalid_request", "Use exactly one client authentication method (HTTP Basic, client_secret, or client_assertion).");
        }

        // A client id is claimed, not proven, at this point: good enough to count against, never to trust.
        var (rule, partition) = grantType == ClientCredentials && client.ClientId is { } id
            ? (limits.PerClient, "client:" + id)
            : (limits.PerAddress, "address:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown"));
        var decision = await limiter.AcquireAsync(rule, partition, cancellationToken);
        if (decision.Outcome == RateLimitOutcome.Unavailable)
        {
            return RateLimitResults.Unavailable(http, decision);
        }

        if (decision.Outcome == RateLimitOutcome.Limited)
        {
            LogRateLimited(logger, rule.Name, client.ClientId ?? "(none)");
            return RateLimitResults.TooManyRequests(http, decision);
        }

        return grantType switch
        {
            ClientCredentials => await ClientCredentialsAsync(http, client, audience, cancellationToken),
            InteractiveGrants.AuthorizationCode => client.Method == ClientMethod.None
                ? await interactive.RedeemCodeAsync(http, form, cancellationToken)
                : Error("invalid_request", "Public clients authenticate with PKCE, not with a secret."),
            _ when interactive.IsInteractiveClient(client.ClientId) && client.Method == ClientMethod.None =>
                await interactive.ExchangeAsync(form, client.ClientId!, audience, cancellationToken),
            _ => await ExchangeAsync(http, client, form, audience, cancellationToken),
        };
    }

    /// <summary>Why a resource indicator (RFC 8707 §2) cannot be served; null when it names one known resource.</summary>
    private IResult? ResourceTarget(string grantType, StringValues resources, string audience)
    {
        if (grantType == InteractiveGrants.AuthorizationCode)
        {
            return Error("invalid_target", "A code buys an identity token only; exchange it (token exchange) with the resource parameter.");
        }

        if (resources.Count != 1 || !string.IsNullOrEmpty(audience))
        {
            return Error("invalid_target", "Name exactly one resource, and no audience beside it: a token is issued for one resource.");
        }

        var resource = resources.ToString();
        // Uri also takes "/mcp" as absolute on Unix (file:///mcp): the resources identity serves are http(s) URIs.
        if (!Uri.TryCreate(resource, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Fragment.Length > 0)
        {
            return Error("invalid_target", "The resource must be an absolute http(s) URI without a fragment (RFC 8707).");
        }

        return issuer.IsKnownResource(resource)
            ? null
            : Error("invalid_target", $"Unknown resource; ask for one among: {string.Join(", ", issuer.Resources.Order(StringComparer.Ordinal))}.");
    }

    internal static IResult TokenResponse(IssuedToken token, string? issuedTokenType = null)
    {
        var body = new Dictionary<string, object> { ["access_token"] = token.AccessToken, ["token_type"] = "Bearer", ["expires_in"] = token.ExpiresInSeconds };
        if (issuedTokenType is not null)
        {
            body["issued_token_type"] = issuedTokenType;
        }

        return Results.Json(body, statusCode: 200);
    }

    internal static IResult Error(string error, string description, int status = 400) =>
        Results.Json(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description }, statusCode: status);

    private async Task<IResult> ClientCredentialsAsync(HttpContext http, ClientAuthentication client, string audience, CancellationToken cancellationToken)
    {
        if (client.Method == ClientMethod.None || client.ClientId is null)
        {
            return InvalidClient(http, client, "Client authentication is required (HTTP Basic, client_secret_post or private_key_jwt).");
        }

        Principal? agent;
        if (client.Method == ClientMethod.PrivateKeyJwt)
        {
            var check = await assertions.ValidateAsync(client.Assertion!, client.ClientId, issuerName.Current, cancellationToken);
            if (check.Unavailable)
            {
                return RateLimitResults.Unavailable(http, RateLimitDecision.StoreUnavailable);
            }

            if (check.Failure is not null)
            {
                LogClientRejected(logger, client.ClientId, check.Failure);
                return InvalidClient(http, client, "Client authentication failed: " + check.Failure + ".");
            }

            agent = check.Agent;
        }
        else
        {
            var (state, remaining) = await lockout.CheckAsync(client.ClientId, cancellationToken);
            if (state == LockState.Unavailable)
            {
                return RateLimitResults.Unavailable(http, RateLimitDecision.StoreUnavailable);
            }

            if (state == LockState.Locked)
            {
                LogClientRejected(logger, client.ClientId, $"client secrets locked for {remaining.TotalSeconds:0} s more");
                return InvalidClient(http, client, "Client authentication failed.");
            }

            agent = await principals.AuthenticateSecretAsync(client.ClientId, client.Secret!, cancellationToken);
            if (agent is null)
            {
                var failures = await lockout.RecordFailureAsync(client.ClientId, cancellationToken);
                if (failures.LockedNow)
                {
                    LogLocked(logger, client.ClientId, failures.Failures, failures.LockedFor.TotalSeconds);
                    await writer.RecordLockAsync(client.ClientId, SecretMethod, failures.Failures, clock.GetUtcNow() + failures.LockedFor, cancellationToken);
                }

                LogClientRejected(logger, client.ClientId, "wrong secret, unknown client or revoked agent");
                return InvalidClient(http, client, "Client authentication failed.");
            }

            await lockout.ResetAsync(client.ClientId, cancellationToken);
        }

        return TokenResponse(await issuer.IssueAsync(agent!.ToTokenSubject(client.ClientId), audience, cancellationToken));
    }

    private async Task<IResult> ExchangeAsync(HttpContext http, ClientAuthentication client, IFormCollection form, string audience, CancellationToken cancellationToken)
    {
        if (client.Secret is not null || client.Assertion is not null)
        {
            return Error("invalid_request", "Token exchange takes no client credentials: the IdP's token is the proof.");
        }

        var subjectToken = form["subject_token"].ToString();
        var subjectTokenType = form["subject_token_type"].ToString();
        if (subjectToken.Length == 0 || subjectTokenType is not (JwtTokenType or IdTokenType or AccessTokenType))
        {
            return Error("invalid_request", $"subject_token and subject_token_type ({JwtTokenType}, {IdTokenType} or {AccessTokenType}) are required.");
        }

        if (!StringValues.IsNullOrEmpty(form["actor_token"]))
        {
            return Error("invalid_request", "Delegation (actor_token) is not supported: a human acts as themself.");
        }

        if (form["requested_token_type"].ToString() is { Length: > 0 } requested && requested is not (AccessTokenType or JwtTokenType))
        {
            return Error("invalid_request", $"Only {AccessTokenType} can be issued.");
        }

        if (!idp.Settings.IsConfigured)
        {
            return Error("unsupported_grant_type", "No corporate IdP is configured (Identity:ExternalIdp:Authority).");
        }

        var (login, failure, unavailable) = await idp.ValidateAsync(subjectToken, cancellationToken);
        if (unavailable)
        {
            http.Response.Headers.RetryAfter = "5";
            return Error("temporarily_unavailable", "The corporate IdP's keys cannot be fetched right now.", StatusCodes.Status503ServiceUnavailable);
        }

        if (login is null)
        {
            LogExchangeRefused(logger, failure!);
            return Error("invalid_grant", "The subject token was refused: " + failure + ".");
        }

        var signedIn = await writer.SignInExternalAsync(login, idp.Settings.GroupBindings.Map(login.Groups), cancellationToken);
        if (signedIn.Status != WriteStatus.Done)
        {
            LogExchangeRefused(logger, signedIn.Detail ?? signedIn.Title ?? "refused");
            return Error("invalid_grant", signedIn.Detail ?? "The principal cannot sign in.");
        }

        return TokenResponse(await issuer.IssueAsync(signedIn.Value!.ToTokenSubject(), audience, cancellationToken), AccessTokenType);
    }

    private static IResult InvalidClient(HttpContext http, ClientAuthentication client, string description)
    {
        if (client.Method == ClientMethod.SecretBasic)
        {
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"controlplane\"";
        }

        return Error("invalid_client", description, StatusCodes.Status401Unauthorized);
    }

    /// <summary>The client authentication the request carries; null when it mixes methods.</summary>
    private static ClientAuthentication? ReadClient(HttpRequest request, IFormCollection form)
    {
        var formId = NonEmpty(form["client_id"]);
        var formSecret = NonEmpty(form["client_secret"]);
        var assertion = NonEmpty(form["client_assertion"]);
        var assertionType = NonEmpty(form["client_assertion_type"]);
        var basic = ReadBasic(request);
        var methods = (basic is not null ? 1 : 0) + (formSecret is not null ? 1 : 0) + (assertion is not null || assertionType is not null ? 1 : 0);
        if (methods > 1)
        {
            return null;
        }

        if (basic is { } b)
        {
            return formId is not null && formId != b.ClientId ? null : new ClientAuthentication(ClientMethod.SecretBasic, b.ClientId, b.Secret, null);
        }

        if (assertion is not null || assertionType is not null)
        {
            if (assertionType != ClientAssertionValidator.AssertionType || assertion is null)
            {
                return null;
            }

            return new ClientAuthentication(ClientMethod.PrivateKeyJwt, formId ?? ClientAssertionValidator.ClaimedClient(assertion), null, assertion);
        }

        return formSecret is not null
            ? (formId is null ? null : new ClientAuthentication(ClientMethod.SecretPost, formId, formSecret, null))
            : new ClientAuthentication(ClientMethod.None, formId, null, null);
    }

    private static (string ClientId, string Secret)? ReadBasic(HttpRequest request)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var header) ||
            !header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
        {
            return null;
        }

        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
            return colon > 0
                ? (Uri.UnescapeDataString(decoded[..colon].Replace('+', ' ')), Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' ')))
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string? NonEmpty(StringValues value) => value.ToString() is { Length: > 0 } text ? text : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client authentication failed for {ClientId}: {Reason}")]
    private static partial void LogClientRejected(ILogger logger, string clientId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client secrets of {ClientId} locked after {Failures} failures for {Seconds} s")]
    private static partial void LogLocked(ILogger logger, string clientId, int failures, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Token request over the {Rule} rate limit (client {ClientId})")]
    private static partial void LogRateLimited(ILogger logger, string rule, string clientId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Token exchange refused: {Reason}")]
    private static partial void LogExchangeRefused(ILogger logger, string reason);
}
