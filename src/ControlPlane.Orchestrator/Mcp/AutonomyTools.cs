using System.ComponentModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ControlPlane.Client;
using ControlPlane.ServiceDefaults.Http;
using ControlPlane.ServiceDefaults.Security;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace ControlPlane.Orchestrator.Mcp;

/// <summary>The autonomy report of the calling agent, read from policy with orchestrator's own credentials.</summary>
[McpServerToolType]
public sealed class AutonomyTools(ServiceTokens tokens, IHttpClientFactory factory, IConfiguration configuration, IHttpContextAccessor http)
{
    public const string HttpClientName = "mcp-services";
    private const string Policy = "policy";

    [McpServerTool(Name = "get_autonomy_report", Title = "Autonomy report", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("What you may do and how: for each environment and action kind you may propose, whether your fleet can run it and whether " +
        "the active policy lets it run unattended, only with human approval, or not at all. Read it before proposing to know what to expect.")]
    public async Task<CallToolResult> GetAutonomyReportAsync(CancellationToken cancellationToken)
    {
        var caller = http.HttpContext?.GetCaller() ?? throw new InvalidOperationException("An MCP tool ran outside an authenticated request.");
        if (!tokens.IsConfigured || ServiceEndpoints.TryResolve(configuration, Policy) is not { } policy)
        {
            return ToolResults.Error("The autonomy report is not available here: orchestrator has no service credentials for policy " +
                "(Mcp:ServiceClient:ClientId and :ClientSecret, and services:policy:http:0).");
        }

        try
        {
            using var response = await SendAsync(policy, caller.Id, await tokens.GetAsync(Policy, cancellationToken), cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return ToolResults.Text(text);
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                tokens.Invalidate(Policy); // revoked or rotated: the next call asks identity again
            }

            return ToolResults.Error($"The autonomy report is not available: policy answered {(int)response.StatusCode}: {ProblemDetail(text)}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TokenRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return ToolResults.Error("The autonomy report is not available right now (policy or identity unreachable); try again shortly.");
        }
    }

    private async Task<HttpResponseMessage> SendAsync(Uri policy, string agentId, string token, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(policy, $"agents/{Uri.EscapeDataString(agentId)}/autonomy"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await factory.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
    }

    private static string ProblemDetail(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("detail", out var detail) && detail.GetString() is { } text ? text : "(no detail)";
        }
        catch (JsonException)
        {
            return "(no problem details)";
        }
    }
}
