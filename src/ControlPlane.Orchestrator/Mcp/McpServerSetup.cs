using ControlPlane.ServiceDefaults.Http;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore.Authentication;
using ModelContextProtocol.Authentication;

namespace ControlPlane.Orchestrator.Mcp;

/// <summary>
/// Orchestrator's MCP server: Streamable HTTP at Mcp:Path (stateless, so any replica answers any call), tools in
/// <see cref="ProposalTools"/> and <see cref="AutonomyTools"/>, protected per the MCP authorization spec (bearer
/// tokens from identity for the resource Mcp:Resource, protected resource metadata naming identity).
/// </summary>
public static class McpServerSetup
{
    public const string PolicyName = "mcp";

    public static void AddMcpServer(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(McpOptions.Section);
        builder.Services.Configure<McpOptions>(section);
        var options = section.Get<McpOptions>() ?? new McpOptions();
        _ = CanonicalResource(options.Resource);
        var authorizationServer = options.AuthorizationServer is { Length: > 0 } configured
            ? configured
            : ServiceEndpoints.TryResolve(builder.Configuration, "identity")?.ToString().TrimEnd('/');

        builder.Services.AddHttpContextAccessor();
        builder.Services.AddSingleton<McpTokenValidator>();
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, McpBearerHandler>(McpBearerHandler.SchemeName, null)
            .AddMcp(o =>
            {
                // The SDK's handler serves the RFC 9728 document; challenges come from McpBearerHandler.
                o.ResourceMetadataUri = new Uri(McpBearerHandler.MetadataPath, UriKind.Relative);
                o.ResourceMetadata = new ProtectedResourceMetadata
                {
                    Resource = options.Resource,
                    AuthorizationServers = authorizationServer is null ? [] : [authorizationServer],
                    BearerMethodsSupported = ["header"],
                    ResourceName = "ControlPlane orchestrator (MCP)",
                };
            });
        builder.Services.AddAuthorizationBuilder().AddPolicy(PolicyName, policy => policy
            .AddAuthenticationSchemes(McpBearerHandler.SchemeName)
            .RequireAuthenticatedUser()
            .AddRequirements(new RequiresPermission(Permissions.ProposalsSubmit)));

        builder.Services.AddHttpClient(AutonomyTools.HttpClientName);
        // Orchestrator's own client-credentials tokens (Mcp:ServiceClient) for the calls the MCP tools make to other services.
        builder.Services.AddSingleton(sp => new ServiceTokens(sp.GetRequiredService<IHttpClientFactory>(), sp.GetRequiredService<IConfiguration>(),
            sp.GetRequiredService<IOptions<McpOptions>>().Value.ServiceClient, AutonomyTools.HttpClientName));
        builder.Services.AddMcpServer(o =>
            {
                o.ServerInfo = new() { Name = "controlplane-orchestrator", Version = "1.0.0" };
                o.ServerInstructions = "ControlPlane governs what agents may change. Propose an action with propose_action, then follow it with " +
                    "get_proposal_status or wait_for_decision; nothing runs until policy (and, when it asks, named humans) authorize it. " +
                    "get_autonomy_report tells what you may do unattended.";
            })
            .WithHttpTransport(t => t.Stateless = true)
            .WithTools<ProposalTools>()
            .WithTools<AutonomyTools>();
    }

    public static IEndpointRouteBuilder MapMcpServer(this IEndpointRouteBuilder app)
    {
        var path = app.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<McpOptions>>().Value.Path;
        app.MapMcp(path)
            .RequireAuthorization(PolicyName)
            // Its own audience (the MCP resource), so the service-wide role matrix, which calls with audience
            // "orchestrator", does not apply; the "mcp" policy requires proposals:submit through that token.
            .WithMetadata(new AuthenticatedByDesign("MCP endpoint: bearer token for the MCP resource with proposals:submit (policy \"mcp\")"));
        return app;
    }

    /// <summary>RFC 8707 §2: an absolute URI without a fragment; checked at start so a typo fails the start.</summary>
    public static Uri CanonicalResource(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.Fragment)
            ? uri
            : throw new InvalidOperationException($"Mcp:Resource must be an absolute http(s) URI without a fragment, not '{value}'.");
}
