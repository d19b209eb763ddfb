using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.ServiceDefaults.Security;

/// <summary>
/// "Authorization: Bearer &lt;token&gt;" checked by <see cref="AccessTokenValidator"/> (JwtBearer does not restore
/// here). Failures are logged with the reason and never with the token; the caller gets 401 problem details and
/// a WWW-Authenticate header (RFC 6750), or 403 when authenticated but not allowed.
/// </summary>
public sealed partial class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder, AccessTokenValidator validator)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "Bearer";
    private const string FailureKey = "controlplane.auth.failure";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            // Another scheme (HTTP Basic client authentication at identity's token endpoint) is not ours to judge;
            // an endpoint that needs a bearer token still answers 401 through the challenge.
            return AuthenticateResult.NoResult();
        }

        var check = await validator.ValidateAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
        if (!check.IsValid)
        {
            return Fail(check.Failure!);
        }

        var principal = new ClaimsPrincipal(check.Identity!);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    private AuthenticateResult Fail(string reason)
    {
        Context.Items[FailureKey] = reason;
        LogRejected(Logger, reason, Request.Method, Request.Path);
        return AuthenticateResult.Fail(reason);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var reason = Context.Items[FailureKey] as string;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = reason is null
            ? "Bearer"
            : $"Bearer error=\"invalid_token\", error_description=\"{reason}\"";
        return WriteProblem(StatusCodes.Status401Unauthorized, "Unauthorized",
            reason is null ? "A bearer token issued by the ControlPlane identity service is required." : $"The bearer token was rejected: {reason}.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return WriteProblem(StatusCodes.Status403Forbidden, "Forbidden", "The caller's role bindings do not grant this action.");
    }

    private Task WriteProblem(int status, string title, string detail) =>
        Context.RequestServices.GetService(typeof(IProblemDetailsService)) is IProblemDetailsService problems
            ? problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = Context,
                ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
            }).AsTask()
            : Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bearer token rejected ({Reason}) for {Method} {Path}")]
    private static partial void LogRejected(ILogger logger, string reason, string method, PathString path);
}
