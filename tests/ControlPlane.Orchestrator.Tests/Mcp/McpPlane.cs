using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Tests.Infrastructure;
using ControlPlane.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ControlPlane.Orchestrator.Tests.Mcp;

/// <summary>
/// An orchestrator whose MCP endpoint serves the default resource (identity's appsettings list it too), with a small
/// intake limit so the rate-limit test overflows it quickly. Tests use distinct agents so that limit stays theirs.
/// </summary>
public sealed class McpPlane(IdentityFixture identity) : PlaneFixture(identity, "orch-mcp")
{
    /// <summary>Mcp:Resource's default, listed in identity's Identity:Resources.</summary>
    public const string Resource = "http://localhost:5104/mcp";
    public const int PerMinute = 5;

    private readonly Dictionary<string, string> _tokens = new(StringComparer.Ordinal);

    /// <summary>More settings, for a fixture that wraps this one (set before InitializeAsync).</summary>
    public Action<PlaneSettings>? MoreSettings { get; init; }

    protected override void Configure(PlaneSettings settings)
    {
        settings.Set("Orchestrator:RateLimit:PerMinute", PerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture));
        MoreSettings?.Invoke(settings);
    }

    /// <summary>A client-credentials token for the MCP resource (RFC 8707 resource parameter), as an MCP agent gets one.</summary>
    public async Task<string> McpTokenAsync(string agent)
    {
        if (_tokens.TryGetValue(agent, out var cached))
        {
            return cached;
        }

        using var http = Plane.Identity.Identity.Host.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["resource"] = Resource }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{agent}:{TestIdentity.AgentSecret}")));
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"token for {Resource}: {(int)response.StatusCode} {body}");
        return _tokens[agent] = JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    public Uri McpEndpoint => new(Plane.Host!.BaseAddress, "mcp");

    /// <summary>The SDK's MCP client over Streamable HTTP, authenticated as <paramref name="agent"/>.</summary>
    public async Task<McpClient> ClientAsync(string agent)
    {
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = McpEndpoint,
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + await McpTokenAsync(agent) },
        });
        return await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken);
    }

    /// <summary>propose_action's arguments: the same shape as the body of POST /proposals.</summary>
    public static Dictionary<string, object?> ProposeArguments(SubmitProposal proposal) => new()
    {
        ["idempotencyKey"] = proposal.IdempotencyKey,
        ["action"] = JsonSerializer.SerializeToElement(proposal.Action, ContractJson.Options),
        ["targets"] = JsonSerializer.SerializeToElement(proposal.Targets, ContractJson.Options),
        ["environment"] = proposal.Environment,
        ["change"] = JsonSerializer.SerializeToElement(proposal.Change, ContractJson.Options),
    };

    public static async Task<CallToolResult> CallAsync(McpClient client, string tool, Dictionary<string, object?> arguments) =>
        await client.CallToolAsync(tool, arguments, cancellationToken: TestContext.Current.CancellationToken);

    public static string Text(CallToolResult result) => string.Concat(result.Content.OfType<TextContentBlock>().Select(c => c.Text));

    /// <summary>A successful tool result's JSON.</summary>
    public static JsonElement Json(CallToolResult result)
    {
        Assert.False(result.IsError == true, "tool error: " + Text(result));
        return JsonDocument.Parse(Text(result)).RootElement.Clone();
    }
}
