using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Orchestrator.Tests.Itsm;

/// <summary>One request as the fake received it.</summary>
public sealed record SnowRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query, string? Authorization, string? Accept,
    string? ContentType, JsonObject? Body);

/// <summary>
/// A local ServiceNow instance serving the parts of the Table API orchestrator uses, as ServiceNow's REST API
/// reference describes them: <c>/api/now/table/{table}</c> (GET list with sysparm_query / sysparm_limit /
/// sysparm_fields / sysparm_exclude_reference_link, POST create → 201, PATCH /{sys_id} → 200), answers wrapped in
/// <c>{"result": …}</c>, basic auth (401 otherwise), JSON only (406 without <c>Accept: application/json</c>, 415
/// for another body type), 400 for a query parameter the Table API does not have. Every request is recorded for
/// exact assertions; <see cref="Down"/> answers 503 to everything, like an instance in maintenance.
/// </summary>
public sealed class ServiceNowFake : IAsyncDisposable
{
    public const string User = "controlplane.integration";
    public const string Password = "snow-secret-0123";

    private static readonly HashSet<string> KnownParameters =
        ["sysparm_query", "sysparm_limit", "sysparm_fields", "sysparm_exclude_reference_link", "sysparm_display_value", "sysparm_offset"];

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<SnowRequest> _requests = new();
    private readonly ConcurrentDictionary<string, JsonObject> _changes = new();
    private readonly ConcurrentDictionary<string, JsonObject> _approvals = new();
    private int _numbers = 10000;

    private ServiceNowFake(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;

    public bool Down { get; set; }

    public IReadOnlyList<SnowRequest> Requests => [.. _requests];

    public IReadOnlyCollection<JsonObject> Changes => [.. _changes.Values];

    public static async Task<ServiceNowFake> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new ServiceNowFake(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        fake.Address = new Uri(address.TrimEnd('/') + "/");
        return fake;
    }

    /// <summary>The change whose correlation_id is the proposal id, or null.</summary>
    public JsonObject? ChangeFor(Guid proposalId) =>
        _changes.Values.SingleOrDefault(c => (string?)c["correlation_id"] == proposalId.ToString());

    /// <summary>An approver decides on a change in ServiceNow (a sysapproval_approver record).</summary>
    public string Decide(string changeSysId, string userName, string email, string state, string? comments = null)
    {
        var sysId = Guid.NewGuid().ToString("N");
        _approvals[sysId] = new JsonObject
        {
            ["sys_id"] = sysId, ["sysapproval"] = changeSysId, ["state"] = state, ["approver.user_name"] = userName, ["approver.email"] = email,
            ["comments"] = comments ?? string.Empty,
        };
        return sysId;
    }

    private async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        JsonObject? body = null;
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var text = await reader.ReadToEndAsync();
            body = text.Length == 0 ? null : JsonNode.Parse(text) as JsonObject;
        }

        var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        _requests.Enqueue(new SnowRequest(request.Method, request.Path.Value ?? string.Empty, query, request.Headers.Authorization.ToString(),
            request.Headers.Accept.ToString(), request.ContentType, body));
        if (Down)
        {
            await ErrorAsync(http, 503, "Service Unavailable", "The instance is down for maintenance");
            return;
        }

        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));
        if (request.Headers.Authorization.ToString() != expected)
        {
            await ErrorAsync(http, 401, "User Not Authenticated", "Required to provide Auth information");
            return;
        }

        if (!request.Headers.Accept.ToString().Contains("application/json", StringComparison.Ordinal))
        {
            await ErrorAsync(http, 406, "Not Acceptable", "Only application/json answers are served by this fake");
            return;
        }

        if (query.Keys.FirstOrDefault(k => !KnownParameters.Contains(k)) is { } unknown)
        {
            await ErrorAsync(http, 400, "Invalid parameter", $"'{unknown}' is not a Table API parameter");
            return;
        }

        var segments = (request.Path.Value ?? string.Empty).Trim('/').Split('/');
        if (segments.Length < 4 || segments[0] != "api" || segments[1] != "now" || segments[2] != "table")
        {
            await ErrorAsync(http, 400, "Invalid path", $"'{request.Path}' is not a Table API path");
            return;
        }

        var table = segments[3];
        var sysId = segments.Length > 4 ? segments[4] : null;
        var records = table switch
        {
            "change_request" => _changes,
            "sysapproval_approver" => _approvals,
            _ => null,
        };
        if (records is null)
        {
            await ErrorAsync(http, 400, "Invalid table", $"Invalid table {table}");
            return;
        }

        if (request.Method is "POST" or "PATCH" && request.ContentType?.StartsWith("application/json", StringComparison.Ordinal) != true)
        {
            await ErrorAsync(http, 415, "Unsupported Media Type", "Send application/json");
            return;
        }

        switch (request.Method, sysId)
        {
            case ("GET", null):
                var rows = records.Values.Where(r => Matches(r, query.GetValueOrDefault("sysparm_query"))).ToList();
                if (query.TryGetValue("sysparm_limit", out var limit))
                {
                    rows = rows.Take(int.Parse(limit, System.Globalization.CultureInfo.InvariantCulture)).ToList();
                }

                await ResultAsync(http, 200, new JsonArray([.. rows.Select(r => (JsonNode)Project(r, query))]));
                return;
            case ("POST", null) when table == "change_request" && body is not null:
                var created = (JsonObject)body.DeepClone();
                created["sys_id"] = Guid.NewGuid().ToString("N");
                created["number"] = $"CHG{Interlocked.Increment(ref _numbers):D7}";
                created["state"] ??= "-5";
                _changes[(string)created["sys_id"]!] = created;
                await ResultAsync(http, 201, Project(created, query));
                return;
            case ("PATCH", not null) when body is not null:
                if (!records.TryGetValue(sysId, out var record))
                {
                    await ErrorAsync(http, 404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval");
                    return;
                }

                foreach (var (name, value) in body)
                {
                    record[name] = value?.DeepClone();
                }

                await ResultAsync(http, 200, Project(record, query));
                return;
            default:
                await ErrorAsync(http, 405, "Method not Supported", $"{request.Method} is not supported here");
                return;
        }
    }

    // Encoded queries as orchestrator writes them: field=value, joined by ^, and field IN a,b.
    private static bool Matches(JsonObject record, string? query) => string.IsNullOrEmpty(query) || query.Split('^').All(term =>
    {
        var inAt = term.IndexOf("IN", StringComparison.Ordinal);
        var eqAt = term.IndexOf('=', StringComparison.Ordinal);
        if (eqAt > 0)
        {
            return (string?)record[term[..eqAt]] == term[(eqAt + 1)..];
        }

        return inAt > 0 && term[(inAt + 2)..].Split(',').Contains((string?)record[term[..inAt]]);
    });

    private static JsonObject Project(JsonObject record, IReadOnlyDictionary<string, string> query)
    {
        if (!query.TryGetValue("sysparm_fields", out var fields))
        {
            return (JsonObject)record.DeepClone();
        }

        var projected = new JsonObject();
        foreach (var field in fields.Split(','))
        {
            projected[field] = record[field]?.DeepClone() ?? string.Empty;
        }

        return projected;
    }

    private static Task ResultAsync(HttpContext http, int status, JsonNode result)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(new JsonObject { ["result"] = result }.ToJsonString());
    }

    private static Task ErrorAsync(HttpContext http, int status, string message, string detail)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(JsonSerializer.Serialize(new { error = new { message, detail }, status = "failure" }));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
