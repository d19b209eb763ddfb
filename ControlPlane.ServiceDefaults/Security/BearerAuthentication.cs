using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace ControlPlane.ServiceDefaults.Security;

/// <summary>
/// "Authorization: Bearer &lt;token&gt;" through the standard JwtBearer handler, given the handler, rules and principal
/// check of <see cref="AccessTokenValidator"/> so HTTP and bus cannot drift apart. Another scheme in the header (HTTP
/// Basic client authentication at identity's token endpoint) is not ours to judge: JwtBearer answers NoResult, and an
/// endpoint that needs a bearer token still answers 401 through the challenge.
/// </summary>
public static class BearerAuthentication
{
    public const string SchemeName = JwtBearerDefaults.AuthenticationScheme;

    internal static void Configure(JwtBearerOptions options, AccessTokenValidator validator)
    {
        // No Authority or MetadataAddress: JwtBearer's own discovery stays off; keys come from ITokenIssuerMetadata
        // through the handler, which also retries an unknown kid after a refresh.
        options.MapInboundClaims = false;
        options.TokenHandlers.Clear();
        options.TokenHandlers.Add(validator.Handler);
        options.TokenValidationParameters = validator.Parameters;
        options.EventsType = typeof(BearerEvents);
    }
}

/// <summary>
/// Logs each rejection with its reason, method and path (never the token) and answers 401 with WWW-Authenticate
/// (RFC 6750) or 403, both with problem details (RFC 9457).
/// </summary>
internal sealed partial class BearerEvents(AccessTokenValidator validator, ILogger<BearerEvents> logger) : JwtBearerEvents
{
    public override Task AuthenticationFailed(AuthenticationFailedContext context)
    {
        // No result set: JwtBearer fails with context.Exception, which the challenge describes the same way.
        LogRejected(logger, AccessTokenValidator.Describe(context.Exception), context.Request.Method, context.Request.Path);
        return Task.CompletedTask;
    }

    public override async Task TokenValidated(TokenValidatedContext context)
    {
        var refusal = await validator.RefusePrincipalAsync(context.Principal!, context.SecurityToken, context.HttpContext.RequestAborted);
        if (refusal is not null)
        {
            LogRejected(logger, refusal, context.Request.Method, context.Request.Path);
            context.Fail(new TokenRefusedException(refusal));
        }
    }

    public override Task Challenge(JwtBearerChallengeContext context)
    {
        // Our header and body replace JwtBearer's, whose error_description words differ from the reasons logged.
        context.HandleResponse();
        var reason = context.AuthenticateFailure is { } failure ? AccessTokenValidator.Describe(failure) : null;
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = reason is null
            ? "Bearer"
            : $"Bearer error=\"invalid_token\", error_description=\"{reason}\"";
        return WriteProblemAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized",
            reason is null ? "A bearer token issued by the ControlPlane identity service is required." : $"The bearer token was rejected: {reason}.");
    }

    public override Task Forbidden(ForbiddenContext context)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        return WriteProblemAsync(context, StatusCodes.Status403Forbidden, "Forbidden", "The caller's role bindings do not grant this action.");
    }

    private static Task WriteProblemAsync(BaseContext<JwtBearerOptions> context, int status, string title, string detail) =>
        context.HttpContext.RequestServices.GetService(typeof(IProblemDetailsService)) is IProblemDetailsService problems
            ? problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context.HttpContext,
                ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
            }).AsTask()
            : Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bearer token rejected ({Reason}) for {Method} {Path}")]
    private static partial void LogRejected(ILogger logger, string reason, string method, PathString path);
}
