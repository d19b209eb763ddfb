using System.Net;
using System.Text.Json;

namespace ControlPlane.Client;

/// <summary>
/// The plane answered with an error. Status, title, detail and (for 400) the field errors come from the RFC 9457
/// problem details; <see cref="Problem"/> is the whole document for anything else it carries.
/// </summary>
public class ControlPlaneException(HttpStatusCode status, string? title, string? detail, IReadOnlyDictionary<string, string[]> errors, JsonElement? problem)
    : Exception(Describe(status, title, detail, errors))
{
    public HttpStatusCode Status { get; } = status;

    public string? Title { get; } = title;

    public string? Detail { get; } = detail;

    /// <summary>Field name → what is wrong with it (validation problems).</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;

    public JsonElement? Problem { get; } = problem;

    private static string Describe(HttpStatusCode status, string? title, string? detail, IReadOnlyDictionary<string, string[]> errors) =>
        $"{(int)status} {title ?? status.ToString()}{(detail is null ? "" : $": {detail}")}" +
        (errors.Count == 0 ? "" : $" ({string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))})");
}

/// <summary>400: the request is not valid; <see cref="ControlPlaneException.Errors"/> names each field.</summary>
public sealed class ValidationProblemException(string? title, string? detail, IReadOnlyDictionary<string, string[]> errors, JsonElement? problem)
    : ControlPlaneException(HttpStatusCode.BadRequest, title, detail, errors, problem);

/// <summary>401 or 403: the token was refused, or the agent lacks the permission or may not see the proposal.</summary>
public sealed class AccessDeniedException(HttpStatusCode status, string? title, string? detail, JsonElement? problem)
    : ControlPlaneException(status, title, detail, new Dictionary<string, string[]>(), problem);

/// <summary>404: no such proposal visible to this agent.</summary>
public sealed class NotFoundException(string? title, string? detail, JsonElement? problem)
    : ControlPlaneException(HttpStatusCode.NotFound, title, detail, new Dictionary<string, string[]>(), problem);

/// <summary>409: the idempotency key was used before with another body (or another conflict the detail names).</summary>
public sealed class ConflictException(string? title, string? detail, JsonElement? problem)
    : ControlPlaneException(HttpStatusCode.Conflict, title, detail, new Dictionary<string, string[]>(), problem);

/// <summary>429: the intake limit is reached; retry after <see cref="RetryAfter"/>.</summary>
public sealed class RateLimitedException(string? title, string? detail, TimeSpan? retryAfter, JsonElement? problem)
    : ControlPlaneException(HttpStatusCode.TooManyRequests, title, detail, new Dictionary<string, string[]>(), problem)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>identity refused the client credentials (RFC 6749 error and description); the secret is not in the message.</summary>
public sealed class TokenRequestException(HttpStatusCode status, string? error, string? description)
    : Exception($"identity refused a token ({(int)status} {error}): {description}")
{
    public HttpStatusCode Status { get; } = status;

    public string? Error { get; } = error;

    public string? Description { get; } = description;
}

/// <summary>The proposal did not reach the awaited state in time; <see cref="Last"/> is what it was.</summary>
public sealed class WatchTimeoutException(Proposal last, TimeSpan waited)
    : TimeoutException($"proposal {last.Id} is still {last.State} after {waited.TotalSeconds:0} s")
{
    public Proposal Last { get; } = last;
}

/// <summary>Turns an error response into the exception that names it.</summary>
public static class ProblemDetails
{
    public static async Task<Exception> ToExceptionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        JsonElement? problem = null;
        string? title = null, detail = null;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement.Clone();
            if (root.ValueKind == JsonValueKind.Object)
            {
                problem = root;
                title = Text(root, "title");
                detail = Text(root, "detail");
                if (root.TryGetProperty("errors", out var fields) && fields.ValueKind == JsonValueKind.Object)
                {
                    foreach (var field in fields.EnumerateObject())
                    {
                        errors[field.Name] = field.Value.ValueKind == JsonValueKind.Array
                            ? [.. field.Value.EnumerateArray().Select(v => v.ToString())]
                            : [field.Value.ToString()];
                    }
                }
            }
        }
        catch (JsonException)
        {
            detail = text.Length > 300 ? text[..300] : text; // not a problem document (a proxy's page): keep the start
        }

        return response.StatusCode switch
        {
            HttpStatusCode.BadRequest => new ValidationProblemException(title, detail, errors, problem),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new AccessDeniedException(response.StatusCode, title, detail, problem),
            HttpStatusCode.NotFound => new NotFoundException(title, detail, problem),
            HttpStatusCode.Conflict => new ConflictException(title, detail, problem),
            HttpStatusCode.TooManyRequests => new RateLimitedException(title, detail, response.Headers.RetryAfter?.Delta, problem),
            _ => new ControlPlaneException(response.StatusCode, title, detail, errors, problem),
        };
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
