using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace ControlPlane.ServiceDefaults.Http;

/// <summary>
/// Turns the exceptions that mean "the request is wrong" into their 4xx problem (RFC 9457) instead of a 500:
/// a body that is not JSON or does not bind (400), one over the size cap (413), the wrong content type (415),
/// and text PostgreSQL cannot store (NUL characters: 400). Everything else stays a 500 for the default handler.
/// </summary>
public sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (Classify(exception) is not var (status, title, detail) || httpContext.Response.HasStarted)
        {
            return false;
        }

        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
            Exception = exception,
        });
    }

    /// <summary>The status, title and detail for an exception caused by the request, or null for a server fault.</summary>
    public static (int Status, string Title, string Detail)? Classify(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }:
                    return (StatusCodes.Status413PayloadTooLarge, "Request body too large", "The request body exceeds the size this service accepts.");
                case BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType }:
                    return (StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "The body must be JSON (Content-Type: application/json).");
                case BadHttpRequestException bad when bad.StatusCode is >= 400 and < 500:
                    // The binder's message names the parameter and what was wrong with it; it never echoes the body.
                    return (bad.StatusCode, "Bad request", bad.InnerException is JsonException inner ? JsonDetail(inner) : bad.Message);
                case JsonException json:
                    return (StatusCodes.Status400BadRequest, "Bad request", JsonDetail(json));
                case PostgresException { SqlState: PostgresErrorCodes.CharacterNotInRepertoire or PostgresErrorCodes.UntranslatableCharacter }:
                    return (StatusCodes.Status400BadRequest, "Bad request", "A value contains a character that cannot be stored (such as NUL).");
                case InvalidDataException:
                    return (StatusCodes.Status400BadRequest, "Bad request", "The request body is malformed.");
            }
        }

        return null;
    }

    private static string JsonDetail(JsonException json) =>
        json.Path is { Length: > 2 } path
            ? $"'{path.TrimStart('$', '.')}' has a value of the wrong type, or the JSON around it is malformed."
            : "The body is not valid JSON.";
}
