using System.Security.Claims;
using System.Text.Encodings.Web;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ControlPlane.Orchestrator.Mcp;

/// <summary>
/// The token rules of every ControlPlane service (<see cref="AccessTokenValidator"/>: ES256, at+jwt, identity's issuer
/// and keys, lifetime, revocation) with one difference: the audience is the MCP resource URI (RFC 8707), so a token
/// issued for orchestrator's REST API, or for any other service, is refused at the MCP endpoint and the other way round.
/// </summary>
public sealed class McpTokenValidator(ITokenIssuerMetadata metadata, IPrincipalRevocations revocations, IOptions<McpOptions> options)
{
    public AccessTokenValidator Validator { get; } = new(metadata,
        new ConfigurationBuilder().AddInMemoryCollection([new("Identity:Audience", options.Value.Resource)]).Build(), revocations);
}

/// <summary>
/// Authenticates "Authorization: Bearer" for the MCP endpoint with <see cref="McpTokenValidator"/> and answers a missing
/// or refused token as the MCP authorization spec asks: 401 with WWW-Authenticate naming the protected resource
/// metadata (RFC 9728 §5.1), plus RFC 6750's invalid_token and the reason when a token was presented.
/// </summary>
public sealed partial class McpBearerHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    McpTokenValidator tokens) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "mcp-bearer";

    /// <summary>Where the SDK serves the protected resource metadata document (AddMcp in <see cref="McpServerSetup"/>).</summary>
    public const string MetadataPath = "/.well-known/oauth-protected-resource";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var check = await tokens.Validator.ValidateAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
        if (!check.IsValid)
        {
            LogRejected(Logger, check.Failure!, Request.Method, Request.Path);
            return AuthenticateResult.Fail(new TokenRefusedException(check.Failure!));
        }

        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(check.Identity!), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var metadata = $"{Request.Scheme}://{Request.Host}{Request.PathBase}{MetadataPath}";
        var reason = result.Failure?.Message;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = reason is null
            ? $"Bearer resource_metadata=\"{metadata}\""
            : $"Bearer resource_metadata=\"{metadata}\", error=\"invalid_token\", error_description=\"{reason}\"";
        await WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized", reason is null
            ? "A bearer token issued by the ControlPlane identity service for this MCP resource is required (see the resource metadata)."
            : $"The bearer token was rejected: {reason}.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden", "The caller's role bindings do not grant proposals:submit, which the MCP tools need.");
    }

    private Task WriteProblemAsync(int status, string title, string detail) =>
        Context.RequestServices.GetService<IProblemDetailsService>() is { } problems
            ? problems.WriteAsync(new ProblemDetailsContext { HttpContext = Context, ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail } }).AsTask()
            : Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "MCP bearer token rejected ({Reason}) for {Method} {Path}")]
    private static partial void LogRejected(ILogger logger, string reason, string method, PathString path);
}
