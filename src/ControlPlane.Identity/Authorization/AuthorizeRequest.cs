using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace ControlPlane.Identity.Authorization;

/// <summary>An authorization request identity accepted: what the code it issues is bound to.</summary>
public sealed record AuthorizeRequest(string ClientId, string RedirectUri, string Scope, string? State, string? Nonce, string CodeChallenge);

/// <summary>
/// Why an authorization request is refused. <see cref="Redirect"/> is false when the client or its redirect URI
/// cannot be trusted (RFC 6749 §4.1.2.1): then the browser gets an error page, never a redirect.
/// </summary>
public sealed record AuthorizeError(string Error, string Description, bool Redirect);

/// <summary>The pure rules of /connect/authorize (authorization code, PKCE S256 only, openid scope).</summary>
public static class AuthorizeRules
{
    public const string S256 = "S256";

    public static (AuthorizeRequest? Request, AuthorizeError? Error) Validate(Func<string, string?> parameter, OidcClients clients)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        ArgumentNullException.ThrowIfNull(clients);
        var client = clients.Find(parameter("client_id"));
        if (client is null)
        {
            return (null, new AuthorizeError("invalid_client", "Unknown client_id.", false));
        }

        var redirectUri = parameter("redirect_uri");
        if (!client.AllowsRedirect(redirectUri))
        {
            return (null, new AuthorizeError("invalid_request", "redirect_uri is not registered for this client.", false));
        }

        if (parameter("response_type") != "code")
        {
            return (null, new AuthorizeError("unsupported_response_type", "Only response_type=code is supported.", true));
        }

        var scope = parameter("scope") ?? string.Empty;
        if (!scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("openid", StringComparer.Ordinal))
        {
            return (null, new AuthorizeError("invalid_scope", "The scope must include openid.", true));
        }

        if (parameter("code_challenge_method") != S256 || !IsChallenge(parameter("code_challenge")))
        {
            return (null, new AuthorizeError("invalid_request", "PKCE is required: code_challenge (43 base64url characters) with code_challenge_method=S256.", true));
        }

        var state = parameter("state");
        var nonce = parameter("nonce");
        if (state is { Length: > 512 } || nonce is { Length: > 512 })
        {
            return (null, new AuthorizeError("invalid_request", "state and nonce are at most 512 characters.", true));
        }

        return (new AuthorizeRequest(client.Id, redirectUri!, scope, state, nonce, parameter("code_challenge")!), null);
    }

    /// <summary>RFC 7636 §4.6: BASE64URL(SHA256(verifier)) equals the challenge; the verifier is 43-128 unreserved characters.</summary>
    public static bool VerifierMatches(string? verifier, string challenge)
    {
        if (verifier is not { Length: >= 43 and <= 128 } || !verifier.All(IsUnreserved))
        {
            return false;
        }

        var computed = Encoding.ASCII.GetBytes(Base64UrlTextEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
        return CryptographicOperations.FixedTimeEquals(computed, Encoding.ASCII.GetBytes(challenge));
    }

    /// <summary>The redirect carrying a code or an error back to the client.</summary>
    public static string RedirectWith(string redirectUri, IReadOnlyDictionary<string, string?> values) =>
        QueryHelpers.AddQueryString(redirectUri, values.Where(v => v.Value is not null).Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)));

    private static bool IsChallenge(string? challenge) =>
        challenge is { Length: 43 } && challenge.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static bool IsUnreserved(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~';
}
