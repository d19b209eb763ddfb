using ControlPlane.ServiceDefaults.Http;

namespace ControlPlane.Orchestrator.Mcp;

/// <summary>Configuration section "Mcp": orchestrator's MCP server (README.md, "MCP").</summary>
public sealed class McpOptions
{
    public const string Section = "Mcp";

    /// <summary>Where the Streamable HTTP endpoint is mapped.</summary>
    public string Path { get; set; } = "/mcp";

    /// <summary>
    /// The MCP endpoint's canonical URI (RFC 8707 resource indicator, RFC 9728 "resource"): agents ask identity for a
    /// token with resource=this, and the endpoint accepts only tokens whose audience is exactly this. identity must
    /// list the same value in Identity:Resources.
    /// </summary>
    public string Resource { get; set; } = "http://localhost:5104/mcp";

    /// <summary>
    /// The authorization server named in the protected resource metadata: identity's issuer as agents reach it.
    /// Empty: the address of service "identity" (services:identity:http:0).
    /// </summary>
    public string? AuthorizationServer { get; set; }

    /// <summary>The longest wait_for_decision may block one call.</summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often wait_for_decision looks at the proposal again.</summary>
    public TimeSpan WaitPollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Orchestrator's own workload identity (an agent bound to viewer) for the calls orchestrator makes on its own
    /// behalf: policy's autonomy report for the MCP tool (never the agent's token: no passthrough) and system-graph's
    /// impact API for change windows that extend to dependents (Scheduling/WindowDependents). Empty: the autonomy tool
    /// answers that the report is not configured, and such windows hold every change in their scope.
    /// </summary>
    public ServiceClientOptions ServiceClient { get; set; } = new();
}
