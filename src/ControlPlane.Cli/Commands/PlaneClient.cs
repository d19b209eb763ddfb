using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;

namespace ControlPlane.Cli.Commands;

/// <summary>Who the CLI acts as: a seeded human through the development IdP, an agent through client credentials, or a given token.</summary>
public sealed record Credentials(string? Human, string? AgentId, string? AgentSecret, string? Token)
{
    public static Credentials FromEnvironment(string? human, string? agent, string? secret) => new(
        human,
        agent,
        secret ?? Environment.GetEnvironmentVariable("CONTROLPLANE_CLIENT_SECRET"),
        human is null && agent is null ? Environment.GetEnvironmentVariable("CONTROLPLANE_TOKEN") : null);

    public string Describe() => Human ?? AgentId ?? (Token is not null ? "the token in CONTROLPLANE_TOKEN" : "nobody");
}

/// <summary>
/// HTTP to the plane's services with a token per audience, fetched from identity once per run. Errors come
/// back as <see cref="PlaneException"/> carrying the problem details' title and detail for the person.
/// </summary>
public sealed class PlaneClient(Credentials credentials) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Dictionary<string, string> _tokens = new(StringComparer.Ordinal);

    public Credentials Credentials => credentials;

    public async Task<string> TokenAsync(string audience, CancellationToken ct)
    {
        if (credentials.Token is not null)
        {
            return credentials.Token;
        }

        if (_tokens.TryGetValue(audience, out var cached))
        {
            return cached;
        }

        var identity = PlaneEndpoints.For("identity");
        HttpResponseMessage response;
        if (credentials.Human is not null)
        {
            response = await _http.PostAsJsonAsync(new Uri(identity, "dev/token"), new { principal = credentials.Human, audience }, ct);
        }
        else if (credentials is { AgentId: not null, AgentSecret: not null })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(identity, "connect/token"))
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["audience"] = audience }),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(
                Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(credentials.AgentId)}:{Uri.EscapeDataString(credentials.AgentSecret)}")));
            response = await _http.SendAsync(request, ct);
        }
        else
        {
            throw new PlaneException("No credentials: pass --as <human> (development IdP), --agent <id> with --secret, or set CONTROLPLANE_TOKEN.");
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new PlaneException($"identity refused a token for {credentials.Describe()} ({audience}): {(int)response.StatusCode} {Summarize(body)}");
            }

            var token = JsonNode.Parse(body)?["access_token"]?.GetValue<string>() ?? throw new PlaneException("identity answered without an access_token.");
            _tokens[audience] = token;
            return token;
        }
    }

    public Task<JsonNode> GetAsync(string service, string path, CancellationToken ct) => SendAsync(service, HttpMethod.Get, path, null, ct);

    public Task<JsonNode> PostAsync(string service, string path, object body, CancellationToken ct) => SendAsync(service, HttpMethod.Post, path, body, ct);

    public Task<JsonNode> SendAsync(string service, HttpMethod method, string path, object? body, CancellationToken ct) =>
        SendContentAsync(service, method, path, body is null ? null : JsonContent.Create(body, body.GetType(), options: ContractJson.Options), ct);

    /// <summary>As <see cref="SendAsync"/> with a body of any media type (a YAML policy bundle).</summary>
    public async Task<JsonNode> SendContentAsync(string service, HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(PlaneEndpoints.For(service), path)) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(service, ct));

        using var response = await _http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new PlaneException($"{service} answered {(int)response.StatusCode} to {method} /{path}: {Summarize(text)}", (int)response.StatusCode);
        }

        return string.IsNullOrWhiteSpace(text) ? new JsonObject() : JsonNode.Parse(text) ?? new JsonObject();
    }

    public async Task<string> GetTextAsync(string service, string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(PlaneEndpoints.For(service), path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(service, ct));
        using var response = await _http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        return response.IsSuccessStatusCode
            ? text
            : throw new PlaneException($"{service} answered {(int)response.StatusCode} to GET /{path}: {Summarize(text)}", (int)response.StatusCode);
    }

    /// <summary>The title and detail of a problem response (and each field error), or the body as is.</summary>
    private static string Summarize(string body)
    {
        try
        {
            var node = JsonNode.Parse(body);
            if (node?["title"] is null && node?["error"] is null)
            {
                return body;
            }

            var parts = new List<string>();
            foreach (var key in new[] { "title", "detail", "error", "error_description" })
            {
                if (node![key]?.GetValue<string>() is { Length: > 0 } value)
                {
                    parts.Add(value);
                }
            }

            if (node!["errors"] is JsonObject errors)
            {
                parts.AddRange(errors.Select(e => $"{e.Key}: {string.Join("; ", e.Value!.AsArray().Select(v => v!.GetValue<string>()))}"));
            }

            // A catalog import names every problem with its file, line, entity and field.
            if (node!["problems"] is JsonArray problems)
            {
                parts.AddRange(problems.Select(p => $"{Environment.NewLine}  {p!["file"]}:{p["line"]} {p["entity"]} {p["field"]}: {p["message"]}"));
            }

            return string.Join(" — ", parts);
        }
        catch (JsonException)
        {
            return body.Length > 300 ? body[..300] : body;
        }
    }

    public void Dispose() => _http.Dispose();
}

public sealed class PlaneException(string message, int? status = null) : Exception(message)
{
    public int? Status { get; } = status;
}
