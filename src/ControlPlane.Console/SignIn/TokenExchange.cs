using System.Text.Json;

namespace ControlPlane.Console.SignIn;

/// <summary>The human's session is over (expired, ended, or identity refused the exchange): sign in again.</summary>
public sealed class SessionExpiredException(string message) : Exception(message);

/// <summary>
/// RFC 8693 token exchange at identity: the human's subject token for a token of one service's audience, so each
/// service decides with the human's own roles. Cached per session and audience until shortly before expiry.
/// </summary>
public sealed class TokenExchange(IHttpClientFactory http, SessionTokens sessions, IConfiguration configuration, TimeProvider time)
{
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(30);

    public async Task<string> TokenForAsync(string? sessionId, string audience, CancellationToken ct)
    {
        var session = sessions.Find(sessionId) ?? throw new SessionExpiredException("Your session has ended; sign in again.");
        if (session.Exchanged.TryGetValue(audience, out var cached) && cached.ExpiresAt - Margin > time.GetUtcNow())
        {
            return cached.Token;
        }

        using var client = http.CreateClient("identity");
        using var response = await client.PostAsync("connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "urn:ietf:params:oauth:grant-type:token-exchange",
            ["client_id"] = configuration["Console:ClientId"] ?? "console",
            ["subject_token"] = session.SubjectToken,
            ["subject_token_type"] = "urn:ietf:params:oauth:token-type:access_token",
            ["audience"] = audience,
        }), ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            if ((int)response.StatusCode is 400 or 401)
            {
                // invalid_grant: the subject token expired or the human was removed. Never log the token.
                sessions.End(sessionId);
                throw new SessionExpiredException($"Identity refused to exchange your session for {audience} ({Error(body)}); sign in again.");
            }

            throw new HttpRequestException($"Token exchange for {audience} answered {(int)response.StatusCode}.");
        }

        using var json = JsonDocument.Parse(body);
        var token = json.RootElement.GetProperty("access_token").GetString()!;
        var expiresIn = json.RootElement.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var seconds) ? seconds : 60;
        var expiresAt = time.GetUtcNow().AddSeconds(expiresIn);
        session.Exchanged[audience] = (token, expiresAt < session.ExpiresAt ? expiresAt : session.ExpiresAt);
        return token;
    }

    private static string Error(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("error", out var error) ? error.GetString() ?? "error" : "error";
        }
        catch (JsonException)
        {
            return "error";
        }
    }
}
