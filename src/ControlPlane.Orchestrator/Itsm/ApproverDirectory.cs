using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.Extensions.Options;

namespace ControlPlane.Orchestrator.Itsm;

/// <summary>A human of identity as the approval rules need them: id, name, current bindings, whether active.</summary>
public sealed record DirectoryHuman(string Id, string Name, string? Email, IReadOnlyList<string> Bindings, bool Active);

/// <summary>
/// Maps a ServiceNow approver to a named human of identity, asking identity at that moment (bindings revoked a
/// minute ago no longer count). Email first (identity's human ids are the corporate emails), then the ServiceNow
/// user name as the principal id. identity is called with the integration's own client credentials
/// (<c>principals:read</c>, e.g. an agent with an auditor binding).
/// </summary>
public sealed class ApproverDirectory(IHttpClientFactory factory, IOptions<ServiceNowOptions> options, TimeProvider clock)
{
    public const string HttpClientName = "identity";

    private readonly SemaphoreSlim _tokenLock = new(1, 1);
    private (string Token, DateTimeOffset Until)? _token;

    /// <summary>The matching human, or null with the reason why nobody matches.</summary>
    public async Task<(Caller? Human, string? Reason)> FindAsync(string? userName, string? email, CancellationToken ct)
    {
        var humans = await HumansAsync(ct);
        var match = Match(humans, userName, email);
        if (match is null)
        {
            return (null, $"ServiceNow user '{userName ?? "?"}' ({email ?? "no email"}) maps to no human of identity");
        }

        if (!match.Active)
        {
            return (null, $"{match.Id} is disabled in identity");
        }

        var bindings = match.Bindings.Select(b => RoleBinding.TryParse(b, out var parsed) ? parsed : null).OfType<RoleBinding>().ToList();
        return (new Caller(match.Id, PrincipalKind.Human, match.Name, bindings, null, null), null);
    }

    /// <summary>Email (case-insensitive) against the id or email of a human, then the user name against the id. Pure.</summary>
    public static DirectoryHuman? Match(IReadOnlyList<DirectoryHuman> humans, string? userName, string? email)
    {
        ArgumentNullException.ThrowIfNull(humans);
        if (!string.IsNullOrWhiteSpace(email))
        {
            var byEmail = humans.Where(h => string.Equals(h.Id, email, StringComparison.OrdinalIgnoreCase) ||
                string.Equals(h.Email, email, StringComparison.OrdinalIgnoreCase)).ToList();
            if (byEmail.Count == 1)
            {
                return byEmail[0];
            }
        }

        return string.IsNullOrWhiteSpace(userName)
            ? null
            : humans.SingleOrDefault(h => string.Equals(h.Id, userName, StringComparison.OrdinalIgnoreCase));
    }

    private async Task<IReadOnlyList<DirectoryHuman>> HumansAsync(CancellationToken ct)
    {
        var http = factory.CreateClient(HttpClientName);
        using var request = new HttpRequestMessage(HttpMethod.Get, "principals?kind=human");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(http, ct));
        using var response = await http.SendAsync(request, ct);
        if (response.StatusCode is HttpStatusCode.Unauthorized)
        {
            _token = null; // revoked or rotated away: the next round asks for a fresh one
        }

        if (!response.IsSuccessStatusCode)
        {
            // Without identity's answer nobody can be mapped: wait, never decide on a guess.
            throw new TransientDependencyException($"identity answered {(int)response.StatusCode} to GET /principals");
        }

        using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct), cancellationToken: ct);
        return [.. body.RootElement.EnumerateArray().Select(p => new DirectoryHuman(
            p.GetProperty("id").GetString()!,
            p.TryGetProperty("displayName", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString()! : p.GetProperty("id").GetString()!,
            p.TryGetProperty("email", out var mail) && mail.ValueKind == JsonValueKind.String ? mail.GetString() : null,
            p.TryGetProperty("bindings", out var b) && b.ValueKind == JsonValueKind.Array ? [.. b.EnumerateArray().Select(x => x.GetString()!)] : [],
            !p.TryGetProperty("disabledAt", out var disabled) || disabled.ValueKind == JsonValueKind.Null))];
    }

    private async Task<string> TokenAsync(HttpClient http, CancellationToken ct)
    {
        await _tokenLock.WaitAsync(ct);
        try
        {
            if (_token is { } cached && cached.Until > clock.GetUtcNow())
            {
                return cached.Token;
            }

            var o = options.Value;
            if (string.IsNullOrEmpty(o.IdentityClientId) || string.IsNullOrEmpty(o.IdentityClientSecret))
            {
                throw new InvalidOperationException("Integrations:ServiceNow:IdentityClientId and IdentityClientSecret are required to map ServiceNow approvers.");
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["audience"] = "identity" }),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
                $"{Uri.EscapeDataString(o.IdentityClientId)}:{Uri.EscapeDataString(o.IdentityClientSecret)}")));
            using var response = await http.SendAsync(request, ct);
            if (response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized)
            {
                throw new InvalidOperationException($"identity refused the ServiceNow integration's client credentials ({(int)response.StatusCode}).");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new TransientDependencyException($"identity answered {(int)response.StatusCode} to the token request");
            }

            using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct), cancellationToken: ct);
            var token = body.RootElement.GetProperty("access_token").GetString()!;
            var lifetime = body.RootElement.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var s) ? s : 300;
            _token = (token, clock.GetUtcNow().AddSeconds(Math.Max(10, lifetime - 30)));
            return token;
        }
        finally
        {
            _tokenLock.Release();
        }
    }
}
