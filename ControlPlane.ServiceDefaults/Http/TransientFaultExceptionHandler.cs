using System.Globalization;
using ControlPlane.ServiceDefaults.Messaging;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace ControlPlane.ServiceDefaults.Http;

/// <summary>
/// A request that failed because a dependency is down, restarting or overloaded (database, cache, broker, another
/// service: <see cref="TransientFaults"/>) gets 503 with Retry-After, not 500: the caller did nothing wrong and should
/// try again, and the plane's clients do (a submission carries its idempotency key, so a retry never duplicates it).
/// A unit of work that failed before its commit left nothing behind; one that failed after it is found by the retry.
/// </summary>
public sealed partial class TransientFaultExceptionHandler(IProblemDetailsService problems, ILogger<TransientFaultExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>Seconds a caller is asked to wait: long enough for a connection to be re-established, short for an agent.</summary>
    public const int RetryAfterSeconds = 2;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (!TransientFaults.IsTransient(exception) || httpContext.Response.HasStarted || httpContext.RequestAborted.IsCancellationRequested)
        {
            return false;
        }

        // Handled exceptions are not logged by the middleware; this one says which request and which dependency.
        LogUnavailable(logger, httpContext.Request.Method, httpContext.Request.Path, exception.GetType().Name, exception);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Temporarily unavailable",
                Detail = $"A dependency of this service is briefly unavailable; retry in {RetryAfterSeconds} s.",
            },
            Exception = exception,
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} answered 503: a dependency is unavailable ({ExceptionType})")]
    private static partial void LogUnavailable(ILogger logger, string method, string path, string exceptionType, Exception exception);
}
