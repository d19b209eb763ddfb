using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Serialization;

namespace ControlPlane.Client;

/// <summary>
/// Client-credentials tokens from identity's /connect/token, one per audience (each service accepts only its own),
/// cached until <see cref="ControlPlaneClientOptions.RefreshBefore"/> ahead of expiry. Thread-safe.
/// </summary>
public sealed class TokenProvider(HttpClient http, ControlPlaneClientOptions options, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, (string Token, DateTimeOffset RenewAt)> _tokens = new(StringComparer.Ordinal);

    public async Task<string> GetTokenAsync(string audience, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_tokens.TryGetValue(audience, out var cached) && _time.GetUtcNow() < cached.RenewAt)
            {
                return cached.Token;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(options.Identity, "connect/token"))
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["audience"] = audience }),
            };
            // RFC 6749 2.3.1: id and secret form-urlencoded before Basic.
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
                $"{Uri.EscapeDataString(options.ClientId)}:{Uri.EscapeDataString(options.ClientSecret)}")));
            using var response = await http.SendAsync(request, cancellationToken);
            var body = await ReadAsync(response, cancellationToken);
            if (!response.IsSuccessStatusCode || body?.AccessToken is not { Length: > 0 } token)
            {
                throw new TokenRequestException(response.StatusCode, body?.Error ?? "invalid_response", body?.ErrorDescription ?? "no access_token in the answer");
            }

            var lifetime = TimeSpan.FromSeconds(Math.Max(0, body.ExpiresIn ?? 60));
            _tokens[audience] = (token, _time.GetUtcNow() + lifetime - options.RefreshBefore);
            return token;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Forgets the audience's token (after a 401: the principal's keys rotated or the token was revoked).</summary>
    public void Invalidate(string audience)
    {
        _gate.Wait();
        try
        {
            _tokens.Remove(audience);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static async Task<TokenAnswer?> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<TokenAnswer>(cancellationToken);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private sealed record TokenAnswer(
        [property: JsonPropertyName("access_token")] string? AccessToken,
        [property: JsonPropertyName("expires_in")] int? ExpiresIn,
        [property: JsonPropertyName("error")] string? Error,
        [property: JsonPropertyName("error_description")] string? ErrorDescription);
}
