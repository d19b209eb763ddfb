using System.Net.Http.Headers;
using System.Text;
using ControlPlane.Identity.Principals;
using ControlPlane.Identity.Tokens;
using ControlPlane.ServiceDefaults.Health;

namespace ControlPlane.Identity.Apis;

/// <summary>
/// The OAuth 2.0 token endpoint (RFC 6749 §4.4 client credentials; client_secret_basic or client_secret_post).
/// Anonymous by design: the client authenticates in the request. Errors use RFC 6749 §5.2 bodies.
/// </summary>
public static partial class TokenApi
{
    public static IEndpointRouteBuilder MapTokenApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/connect/token", IssueAsync)
            .AllowAnonymous()
            .DisableAntiforgery()
            .WithMetadata(new AnonymousByDesign("OAuth token endpoint: the client authenticates in the request"))
            .WithTags("Tokens");
        return app;
    }

    private static async Task<IResult> IssueAsync(HttpRequest request, PrincipalStore principals, TokenIssuer issuer, ILoggerFactory loggers, CancellationToken ct)
    {
        if (!request.HasFormContentType)
        {
            return Error("invalid_request", "The token request must be application/x-www-form-urlencoded.");
        }

        var form = await request.ReadFormAsync(ct);
        var grantType = form["grant_type"].ToString();
        if (grantType != "client_credentials")
        {
            return Error("unsupported_grant_type", $"Grant type '{grantType}' is not supported here; use client_credentials.");
        }

        var audience = form["audience"].ToString();
        if (string.IsNullOrEmpty(audience) || !issuer.IsKnownAudience(audience))
        {
            return Error("invalid_target", $"Ask for one audience among: {string.Join(", ", issuer.Audiences)}.");
        }

        var (clientId, secret) = ReadClientCredentials(request, form);
        if (clientId is null || secret is null)
        {
            return Error("invalid_client", "Client authentication is required (HTTP Basic or client_id and client_secret).", 401);
        }

        var principal = await principals.AuthenticateSecretAsync(clientId, secret, ct);
        if (principal is null)
        {
            LogClientRejected(loggers.CreateLogger("ControlPlane.Identity.Tokens"), clientId);
            return Error("invalid_client", "Client authentication failed.", 401);
        }

        var token = await issuer.IssueAsync(principal.ToTokenSubject(clientId), audience, ct);
        return TokenResponse(token);
    }

    internal static IResult TokenResponse(IssuedToken token) => Results.Json(
        new Dictionary<string, object> { ["access_token"] = token.AccessToken, ["token_type"] = "Bearer", ["expires_in"] = token.ExpiresInSeconds },
        statusCode: 200);

    internal static IResult Error(string error, string description, int status = 400) =>
        Results.Json(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description }, statusCode: status);

    private static (string? ClientId, string? Secret) ReadClientCredentials(HttpRequest request, IFormCollection form)
    {
        if (AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var header) &&
            header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) && header.Parameter is not null)
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
                    return (Uri.UnescapeDataString(decoded[..colon].Replace('+', ' ')), Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' ')));
                }
            }
            catch (FormatException)
            {
                return (null, null);
            }
        }

        var id = form["client_id"].ToString();
        var secret = form["client_secret"].ToString();
        return (id.Length > 0 ? id : null, secret.Length > 0 ? secret : null);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client authentication failed for {ClientId}")]
    private static partial void LogClientRejected(ILogger logger, string clientId);
}
