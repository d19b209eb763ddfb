using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.EndToEnd.Tests.Support;
using ControlPlane.ServiceDefaults.Security;
using Npgsql;

namespace ControlPlane.EndToEnd.Tests.Security;

/// <summary>
/// Issue 9 item 7: bad input never 5xx. Every write endpoint of every service gets malformed JSON, wrong content
/// types, an oversized body, wrong types and unicode edge cases in every field of its schema (from the service's
/// own OpenAPI description), unknown fields and huge arrays. No answer is 5xx, every refusal is RFC 9457, and a
/// refused request writes no row.
/// </summary>
[Collection(PlaneCollection.Name)]
public sealed class BadInputTests(Plane plane)
{
    private static readonly string[] Services = ["identity", "system-graph", "policy", "orchestrator", "fleet", "evidence"];

    /// <summary>OAuth 2.0 (RFC 6749 §5.2) prescribes its own error body for the token endpoint.</summary>
    private const string TokenEndpoint = "POST /connect/token";

    /// <summary>Writes that read no body: probing their body would only repeat the action (rotating identity's keys).</summary>
    private static readonly HashSet<string> NoBody = new(StringComparer.Ordinal) { "POST /keys/rotate", "POST /evidence/checkpoints" };

    /// <summary>Tables the bus writes whatever the requests do (events of the plane's own background work).</summary>
    private static readonly HashSet<string> BackgroundTables = new(StringComparer.Ordinal) { "inbox_messages", "outbox_messages" };

    /// <summary>A request to send; KestrelRefuses: the HTTP server itself answers 400 without a body, before any application code (a NUL in the path).</summary>
    private sealed record Probe(string Name, Func<HttpContent?> Content, string? Path = null, bool KestrelRefuses = false);

    [Fact]
    public async Task Malformed_oversized_mistyped_and_odd_unicode_input_to_every_write_endpoint_is_a_4xx_problem_and_writes_nothing()
    {
        var endpoints = EndpointInventory.Of(plane.Services)
            .Where(e => Services.Contains(e.Service) && e.Method is "POST" or "PUT" or "PATCH" or "DELETE")
            .ToList();
        Assert.True(endpoints.Count >= 20, $"only {endpoints.Count} write endpoints found");

        var failures = new List<string>();
        var sent = 0;
        foreach (var endpoint in endpoints)
        {
            var schema = await RequestSchemaAsync(endpoint);
            var probes = Probes(endpoint, schema).ToList();
            var before = await RowCountsAsync(endpoint.Service);
            var allRefused = true;
            foreach (var probe in probes)
            {
                using var response = await SendAsync(endpoint, probe);
                sent++;
                var status = (int)response.StatusCode;
                var body = await response.Content.ReadAsStringAsync();
                var what = $"{endpoint} [{probe.Name}]: {status}";
                allRefused &= status >= 400;
                if (status >= 500)
                {
                    failures.Add($"{what} {Truncate(body)}");
                }
                else if (status >= 400 && $"{endpoint.Method} {endpoint.Pattern}" != TokenEndpoint && !IsProblem(response, body, status)
                    && !(probe.KestrelRefuses && status == 400 && body.Length == 0))
                {
                    failures.Add($"{what} is not application/problem+json with status and title: {response.Content.Headers.ContentType} {Truncate(body)}");
                }
            }

            if (allRefused)
            {
                var after = await RowCountsAsync(endpoint.Service);
                failures.AddRange(after.Where(t => t.Value > before.GetValueOrDefault(t.Key) && !BackgroundTables.Contains(t.Key))
                    .Select(t => $"{endpoint}: every probe was refused, yet {t.Key} grew from {before.GetValueOrDefault(t.Key)} to {t.Value} rows"));
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} bad requests answered wrongly:\n" + string.Join("\n", failures));
        Assert.True(sent > endpoints.Count * 8, $"only {sent} requests sent");
    }

    private static IEnumerable<Probe> Probes(MappedEndpoint endpoint, JsonObject? schema)
    {
        if (endpoint.Method == "DELETE" || NoBody.Contains($"{endpoint.Method} {endpoint.Pattern}"))
        {
            // No body to read: the route values are the input.
            if (endpoint.Pattern.Contains('{', StringComparison.Ordinal))
            {
                yield return new Probe("NUL in a route value", () => null, endpoint.SamplePath().Replace("matrix-sample", "a%00b", StringComparison.Ordinal), KestrelRefuses: true);
                yield return new Probe("invalid UTF-8 in a route value", () => null, endpoint.SamplePath().Replace("matrix-sample", "a%ED%A0%80b", StringComparison.Ordinal));
                yield return new Probe("long route value", () => null, endpoint.SamplePath().Replace("matrix-sample", new string('a', 4000), StringComparison.Ordinal));
            }

            yield break;
        }

        yield return new Probe("malformed JSON", () => Json("{\"a\": [1, 2,"));
        yield return new Probe("unterminated string", () => Json("{\"a\": \"abc"));
        yield return new Probe("a JSON array", () => Json("[1, 2, 3]"));
        yield return new Probe("a JSON string", () => Json("\"text\""));
        yield return new Probe("JSON null", () => Json("null"));
        yield return new Probe("empty body", () => Json(string.Empty));
        yield return new Probe("text/plain", () => new StringContent("hello", Encoding.UTF8, "text/plain"));
        yield return new Probe("application/xml", () => new StringContent("<a/>", Encoding.UTF8, "application/xml"));
        yield return new Probe("form body", () => new FormUrlEncodedContent([new("a", "b\0c")]));
        yield return new Probe("no content type", () => new ByteArrayContent(Encoding.UTF8.GetBytes("{}")));
        yield return new Probe("2 MiB body", () => Json("{\"a\": \"" + new string('x', 2 * 1024 * 1024) + "\"}"));
        yield return new Probe("invalid UTF-8 bytes", () => new ByteArrayContent([.. "{\"a\": \""u8, 0xC3, 0x28, 0xFF, .. "\"}"u8]) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } });
        yield return new Probe("deep nesting", () => Json(new string('[', 5000) + new string(']', 5000)));

        var properties = (schema?["properties"] as JsonObject)?.Select(p => (p.Key, Type: TypeOf(p.Value))).ToList() ?? [];
        yield return new Probe("unknown fields", () => Json(Body(properties, ("notAField", JsonValue.Create(1)), ("__proto__", new JsonObject()))));
        foreach (var (name, type) in properties)
        {
            yield return new Probe($"{name}: wrong type", () => Json(Body(properties, (name, WrongValue(type)))));
            yield return new Probe($"{name}: NUL", () => Json(Body(properties, (name, "a\0b"))));
            yield return new Probe($"{name}: lone surrogate", () => Json(Body(properties, (name, null)).Replace(Marker, "\"\\ud800x\"", StringComparison.Ordinal)));
            yield return new Probe($"{name}: odd unicode", () => Json(Body(properties, (name, "\u202Egnp.exe\uFEFF\U0001F600\u0301"))));
            yield return new Probe($"{name}: huge array", () => Json(Body(properties, (name, new JsonArray([.. Enumerable.Range(0, 50_000).Select(i => JsonValue.Create(i))])))));
            yield return new Probe($"{name}: huge number", () => Json(Body(properties, (name, null)).Replace(Marker, "1e999999", StringComparison.Ordinal)));
        }
    }

    /// <summary>Replaced as raw text in the serialized body, for what JsonNode cannot hold (a lone surrogate, 1e999999).</summary>
    private const string Marker = "\"@@\"";

    /// <summary>A body with a plausible value for every property, then the overrides (a null value = <see cref="Marker"/>).</summary>
    private static string Body(IReadOnlyList<(string Key, string? Type)> properties, params (string Name, JsonNode? Value)[] overrides)
    {
        var body = new JsonObject();
        foreach (var (key, type) in properties)
        {
            body[key] = Plausible(type);
        }

        foreach (var (name, value) in overrides)
        {
            body[name] = value?.DeepClone() ?? JsonValue.Create("@@");
        }

        return body.ToJsonString();
    }

    private static JsonNode? Plausible(string? type) => type switch
    {
        "integer" or "number" => JsonValue.Create(1),
        "boolean" => JsonValue.Create(true),
        "array" => new JsonArray(),
        "object" => new JsonObject(),
        _ => JsonValue.Create("x"),
    };

    private static JsonNode WrongValue(string? type) => type switch
    {
        "string" => new JsonObject { ["nested"] = 1 },
        "integer" or "number" => JsonValue.Create("not a number"),
        "boolean" => JsonValue.Create("yes"),
        "array" => JsonValue.Create(42),
        "object" => new JsonArray(1, 2),
        _ => new JsonArray(true, false),
    };

    private static string? TypeOf(JsonNode? schema) => schema?["type"] switch
    {
        JsonValue v when v.TryGetValue<string>(out var t) => t,
        JsonArray a => a.Select(x => x?.GetValue<string>()).FirstOrDefault(t => t != "null"),
        _ => schema?["$ref"] is not null ? "object" : null,
    };

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private async Task<HttpResponseMessage> SendAsync(MappedEndpoint endpoint, Probe probe)
    {
        using var client = new HttpClient { BaseAddress = plane.Address(endpoint.Service), Timeout = TimeSpan.FromSeconds(60) };
        using var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), (probe.Path ?? endpoint.SamplePath()).TrimStart('/')) { Content = probe.Content() };
        // The server may refuse before reading the body (413 on Content-Length): with 100-continue the client waits for
        // that answer instead of writing 2 MiB into a connection the server already closed.
        request.Headers.ExpectContinue = request.Content is not null;
        if (endpoint.Permission is { } permission)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await plane.Identity.HumanTokenAsync(HolderOf(permission), endpoint.Service));
        }

        return await client.SendAsync(request);
    }

    private static string HolderOf(string permission) =>
        RoleHumans.All.First(h => h.Role is not null && Permissions.Grants(h.Role, permission)).Id;

    /// <summary>The JSON schema of the endpoint's request body from the service's OpenAPI description, or null when it takes none.</summary>
    private async Task<JsonObject?> RequestSchemaAsync(MappedEndpoint endpoint)
    {
        var document = await OpenApiAsync(endpoint.Service);
        var operation = document["paths"]?[endpoint.Pattern]?[endpoint.Method.ToLowerInvariant()];
        var schema = operation?["requestBody"]?["content"]?["application/json"]?["schema"];
        if (schema?["$ref"]?.GetValue<string>() is { } reference)
        {
            schema = document["components"]?["schemas"]?[reference.Split('/')[^1]];
        }

        return schema as JsonObject ?? (operation?["requestBody"] is not null ? new JsonObject() : null);
    }

    private readonly Dictionary<string, JsonNode> _openApi = new(StringComparer.Ordinal);

    private async Task<JsonNode> OpenApiAsync(string service)
    {
        if (!_openApi.TryGetValue(service, out var document))
        {
            using var client = await plane.ClientAsync(RoleHumans.For(Roles.Viewer), service);
            document = JsonNode.Parse(await client.GetStringAsync("openapi/v1.json"))!;
            _openApi[service] = document;
        }

        return document;
    }

    private async Task<Dictionary<string, long>> RowCountsAsync(string service)
    {
        await using var data = NpgsqlDataSource.Create(plane.Databases[service]);
        var tables = new List<string>();
        await using (var list = data.CreateCommand("select quote_ident(table_schema) || '.' || quote_ident(table_name) from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'"))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            await using var count = data.CreateCommand($"select count(*) from {table}");
            counts[table.Split('.')[^1].Trim('"')] = (long)(await count.ExecuteScalarAsync())!;
        }

        return counts;
    }

    private static bool IsProblem(HttpResponseMessage response, string body, int status)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return false;
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("status", out var s) && s.GetInt32() == status
                && json.RootElement.TryGetProperty("title", out var t) && t.GetString() is { Length: > 0 };
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Truncate(string text) => text.Length > 300 ? text[..300] + "…" : text;
}
