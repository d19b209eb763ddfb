using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace ControlPlane.Evidence.Transparency;

/// <summary>
/// Any request that finds the log rewritten under a checkpoint or under the tree (a bundle, a proof, a checkpoint on
/// demand) gets 409 with what was found and what to do; it was logged as critical where it was found.
/// </summary>
public sealed class LogRewrittenHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not LogRewrittenException || httpContext.Response.HasStarted)
        {
            return false;
        }

        httpContext.Response.StatusCode = StatusCodes.Status409Conflict;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "Evidence log rewritten",
                Detail = exception.Message,
            },
            Exception = exception,
        });
    }
}
