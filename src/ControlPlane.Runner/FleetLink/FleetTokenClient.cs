using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ControlPlane.Runner.FleetLink;

/// <summary>
/// An access token for fleet (audience "fleet") by client credentials at identity's /connect/token, cached until
/// shortly before it expires. The secret and the token never reach a log.
/// </summary>
public sealed class FleetTokenClient(IHttpClientFactory httpClients, RunnerOptions options, TimeProvider clock)
{
    public const string HttpClientName = "identity";
    public const string Audience = "fleet";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;
    private DateTimeOffset _refreshAt;

    public async Task<string> GetAsync(CancellationToken ct)
    {
        if (_token is { } cached && clock.GetUtcNow() < _refreshAt)
        {
            return cached;
        }

        await _gate.WaitAsync(ct);
        try
        {
            if (_token is { } fresh && clock.GetUtcNow() < _refreshAt)
            {
                return fresh;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["audience"] = Audience }),
            };
            // RFC 6749 §2.3.1: both parts form-urlencoded before Basic encoding.
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
                $"{Uri.EscapeDataString(options.ClientId!)}:{Uri.EscapeDataString(options.ClientSecret!)}")));
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                // The error body is identity's RFC 6749 error (no secret in it).
                throw new HttpRequestException($"identity refused the runner's client credentials: {(int)response.StatusCode} {Truncate(body)}", null, response.StatusCode);
            }

            using var json = JsonDocument.Parse(body);
            var token = json.RootElement.GetProperty("access_token").GetString() ?? throw new HttpRequestException("identity returned no access_token");
            var lifetime = TimeSpan.FromSeconds(json.RootElement.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var s) ? s : 300);
            _token = token;
            _refreshAt = clock.GetUtcNow() + TimeSpan.FromTicks(Math.Min((lifetime - TimeSpan.FromSeconds(60)).Ticks, lifetime.Ticks * 3 / 4));
            return token;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Forgets the cached token (fleet answered 401: revoked or rotated keys).</summary>
    public void Invalidate() => _token = null;

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300];
}
