using ControlPlane.Identity.Principals;
using ControlPlane.Identity.Tokens;
using ControlPlane.ServiceDefaults.Security;
using StackExchange.Redis;

namespace ControlPlane.Identity.Authorization;

/// <summary>
/// The token-endpoint grants of the public interactive clients (the console): the authorization code with PKCE,
/// and RFC 8693 exchange of the client's identity access token for one per service audience. The exchange re-reads
/// the human from the store each time, so a removed binding or a disabled human takes effect at the next exchange.
/// </summary>
public sealed partial class InteractiveGrants(
    OidcClients clients,
    AuthorizationCodeStore codes,
    PrincipalStore principals,
    TokenIssuer issuer,
    AccessTokenValidator validator,
    SessionEvents sessions,
    ILogger<InteractiveGrants> logger)
{
    public const string AuthorizationCode = "authorization_code";

    /// <summary>The audience of the access token a code buys: identity, so only identity (and its exchange) accepts it.</summary>
    public const string SubjectAudience = "identity";

    public bool IsInteractiveClient(string? clientId) => clients.Find(clientId) is not null;

    public async Task<IResult> RedeemCodeAsync(HttpContext http, IFormCollection form, CancellationToken cancellationToken)
    {
        var client = clients.Find(form["client_id"].ToString());
        if (client is null)
        {
            return TokenEndpoint.Error("invalid_client", "Unknown client_id.", StatusCodes.Status401Unauthorized);
        }

        IssuedCode? code;
        try
        {
            // Taken before any other check: a code presented once is gone, whatever the outcome (RFC 6749 §4.1.2).
            code = await codes.RedeemAsync(form["code"].ToString());
        }
        catch (RedisException)
        {
            return Unavailable(http);
        }

        if (code is null)
        {
            return TokenEndpoint.Error("invalid_grant", "The code is unknown, expired or already used.");
        }

        if (code.ClientId != client.Id || code.RedirectUri != form["redirect_uri"].ToString())
        {
            LogRefused(logger, "code presented by another client or with another redirect_uri");
            return TokenEndpoint.Error("invalid_grant", "The code was issued to another client or redirect_uri.");
        }

        if (!AuthorizeRules.VerifierMatches(form["code_verifier"].ToString(), code.CodeChallenge))
        {
            LogRefused(logger, "PKCE verifier does not match");
            return TokenEndpoint.Error("invalid_grant", "code_verifier does not match the code_challenge.");
        }

        var human = await principals.FindAsync(code.HumanId, cancellationToken);
        if (human is not { Kind: PrincipalKind.Human, IsActive: true })
        {
            return TokenEndpoint.Error("invalid_grant", "The human is no longer active.");
        }

        var subject = human.ToTokenSubject(client.Id);
        var access = await issuer.IssueAsync(subject, SubjectAudience, cancellationToken);
        var idToken = await issuer.IssueIdTokenAsync(subject, human.Email, client.Id, code.Nonce, code.AuthTime, cancellationToken);
        await sessions.SignedInAsync(human.Id, client.Id, cancellationToken);
        return Results.Json(new Dictionary<string, object>
        {
            ["access_token"] = access.AccessToken,
            ["token_type"] = "Bearer",
            ["expires_in"] = access.ExpiresInSeconds,
            ["id_token"] = idToken,
            ["scope"] = "openid profile email",
        });
    }

    public async Task<IResult> ExchangeAsync(IFormCollection form, string clientId, string audience, CancellationToken cancellationToken)
    {
        if (form["subject_token_type"].ToString() != TokenEndpoint.AccessTokenType)
        {
            return TokenEndpoint.Error("invalid_request", $"subject_token_type must be {TokenEndpoint.AccessTokenType}.");
        }

        var check = await validator.ValidateAsync(form["subject_token"].ToString(), cancellationToken);
        if (!check.IsValid)
        {
            LogRefused(logger, "subject token: " + check.Failure);
            return TokenEndpoint.Error("invalid_grant", "The subject token was refused: " + check.Failure + ".");
        }

        var identity = check.Identity!;
        if (identity.FindFirst(ControlPlaneClaims.Kind)?.Value != "human" || identity.FindFirst(ControlPlaneClaims.ClientId)?.Value != clientId)
        {
            LogRefused(logger, "subject token is not a human's token for this client");
            return TokenEndpoint.Error("invalid_grant", "Only a human's token issued to this client can be exchanged.");
        }

        var human = await principals.FindAsync(identity.FindFirst(ControlPlaneClaims.Subject)!.Value, cancellationToken);
        if (human is not { Kind: PrincipalKind.Human, IsActive: true })
        {
            return TokenEndpoint.Error("invalid_grant", "The human is no longer active.");
        }

        return TokenEndpoint.TokenResponse(await issuer.IssueAsync(human.ToTokenSubject(clientId), audience, cancellationToken), TokenEndpoint.AccessTokenType);
    }

    private static IResult Unavailable(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "5";
        return TokenEndpoint.Error("temporarily_unavailable", "The code store is unreachable.", StatusCodes.Status503ServiceUnavailable);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Interactive grant refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);
}
