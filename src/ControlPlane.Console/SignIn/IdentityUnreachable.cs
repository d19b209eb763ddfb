using Microsoft.AspNetCore.Diagnostics;

namespace ControlPlane.Console.SignIn;

/// <summary>
/// Identity not answering when a human must sign in is an outage, not a fault of the console: 503 with Retry-After
/// and a page that says so, instead of a 500.
/// </summary>
public sealed class IdentityUnreachable : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        // IdentityModel wraps the failed discovery request (IDX20803: Unable to obtain configuration).
        if (exception is not InvalidOperationException { Message: var message } || !message.Contains("IDX20803", StringComparison.Ordinal))
        {
            return false;
        }

        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = "5";
        await httpContext.Response.WriteAsJsonAsync(new
        {
            type = "https://tools.ietf.org/html/rfc9110#section-15.6.4",
            title = "Identity is unreachable",
            status = 503,
            detail = "Signing in needs the identity service, which did not answer. Retry in a few seconds.",
        }, cancellationToken);
        return true;
    }
}
