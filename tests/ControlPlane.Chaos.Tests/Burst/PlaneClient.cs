using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace ControlPlane.Chaos.Tests.Burst;

/// <summary>
/// HTTP as the burst's principals: the remediation agent (client credentials), the production approver and the
/// auditor (dev login). Tokens are kept and fetched again after a 401 (identity restarted with the same keys keeps
/// them valid; a refetch covers the rest). Every call survives a killed process: it is retried with backoff.
/// </summary>
public sealed class PlaneClient(Uri identity, HttpClient http) : IDisposable
{
    public const string Agent = "remediation-agent";
    public const string Approver = "priya.prod-approver@example.com";
    public const string Auditor = "aud.auditor@example.com";

    private readonly ConcurrentDictionary<(string, string), string> _tokens = new();

    public async Task<HttpResponseMessage> SendAsync(string principal, string audience, Func<HttpRequestMessage> request, TimeSpan patience)
    {
        var deadline = DateTimeOffset.UtcNow + patience;
        var pause = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                using var message = request();
                message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(principal, audience));
                var response = await http.SendAsync(message);
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    _tokens.TryRemove((principal, audience), out _);
                }

                // 5xx and 429 are passing outages (a dependency restarting): asked again; every other answer is the answer.
                if (response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests) && (int)response.StatusCode < 500)
                {
                    return response;
                }

                if (DateTimeOffset.UtcNow > deadline)
                {
                    return response;
                }

                response.Dispose();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                if (DateTimeOffset.UtcNow > deadline)
                {
                    throw;
                }
            }

            await Task.Delay(pause);
            pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 2000));
        }
    }

    private async Task<string> TokenAsync(string principal, string audience)
    {
        if (_tokens.TryGetValue((principal, audience), out var token))
        {
            return token;
        }

        using var request = principal == Agent
            ? new HttpRequestMessage(HttpMethod.Post, new Uri(identity, "connect/token"))
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["audience"] = audience }),
                Headers = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Agent}:demo-secret-{Agent}-development-only"))) },
            }
            : new HttpRequestMessage(HttpMethod.Post, new Uri(identity, "dev/token")) { Content = JsonContent.Create(new { principal, audience }) };
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            // a 5xx while identity restarts is raised as a passing outage, retried by the caller
            throw new HttpRequestException($"token for {principal} ({audience}): {(int)response.StatusCode} {body}");
        }

        using var json = JsonDocument.Parse(body);
        token = json.RootElement.GetProperty("access_token").GetString()!;
        _tokens[(principal, audience)] = token;
        return token;
    }

    public void Dispose() => http.Dispose();
}
