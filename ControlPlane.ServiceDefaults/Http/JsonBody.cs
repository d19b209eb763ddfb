using System.Text.Json;
using ControlPlane.Contracts;
using Microsoft.AspNetCore.Http;

namespace ControlPlane.ServiceDefaults.Http;

/// <summary>A request body read as JSON: the value, or the 400/415 problem to answer instead.</summary>
public readonly record struct JsonBody<T>(T? Value, IResult? Problem) where T : class;

public static class JsonBodyExtensions
{
    /// <summary>
    /// Reads the body with <see cref="ContractJson.Options"/>. Minimal APIs answer a malformed body with a bare 400;
    /// this names the field whose value had the wrong type (from the reader's JSON path), so the caller can fix it.
    /// </summary>
    public static async Task<JsonBody<T>> ReadJsonBodyAsync<T>(this HttpRequest request, CancellationToken cancellationToken) where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.HasJsonContentType())
        {
            return new JsonBody<T>(null, Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type", detail: "The body must be JSON (Content-Type: application/json)."));
        }

        try
        {
            var value = await request.ReadFromJsonAsync<T>(ContractJson.Options, cancellationToken);
            return value is null
                ? new JsonBody<T>(null, Invalid("body", "A JSON object is required."))
                : new JsonBody<T>(value, null);
        }
        catch (JsonException ex)
        {
            var field = ex.Path is { Length: > 2 } path ? path.TrimStart('$', '.') : "body";
            return new JsonBody<T>(null, Invalid(field, field == "body"
                ? "The body is not valid JSON."
                : $"'{field}' has a value of the wrong type, or the JSON around it is malformed."));
        }
    }

    private static IResult Invalid(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
