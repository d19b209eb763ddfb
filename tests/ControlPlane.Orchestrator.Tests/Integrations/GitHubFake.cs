using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Orchestrator.Tests.Integrations;

/// <summary>One request the fake took, as it arrived.</summary>
public sealed record GitHubRequest(string Method, string Path, string? Authorization, string? Accept, string? ApiVersion, string? UserAgent,
    string? ContentType, JsonElement Body, int AnsweredWith);

/// <summary>
/// A local stand-in for GitHub's REST endpoint "Create a commit status" (POST /repos/{owner}/{repo}/statuses/{sha}),
/// built from GitHub's public documentation: it answers 401 without a bearer token, 404 for other paths, 415/400
/// without JSON, 422 "Validation Failed" for a body that breaks the documented rules (state one of error, failure,
/// pending, success; only state, target_url, description and context), and 201 with the created status otherwise.
/// Repositories named "archived" answer 422 as GitHub does for a SHA it cannot find; "flaky" ones answer 503 the first
/// <see cref="FailuresBeforeSuccess"/> times.
/// </summary>
public sealed partial class GitHubFake : IAsyncDisposable
{
    public const string Token = "ghp_fakeTokenForTheLocalGitHubStandIn0001";
    public const int FailuresBeforeSuccess = 2;

    private static readonly HashSet<string> States = new(StringComparer.Ordinal) { "error", "failure", "pending", "success" };
    private static readonly HashSet<string> Fields = new(StringComparer.Ordinal) { "state", "target_url", "description", "context" };

    private readonly ConcurrentQueue<GitHubRequest> _requests = new();
    private readonly ConcurrentDictionary<string, int> _flaky = new(StringComparer.Ordinal);
    private WebApplication _app = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyList<GitHubRequest> Requests => [.. _requests];

    public static async Task<GitHubFake> StartAsync()
    {
        var fake = new GitHubFake();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        fake._app = builder.Build();
        fake._app.Run(fake.HandleAsync);
        await fake._app.StartAsync();
        var address = fake._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseAddress = new Uri(address.TrimEnd('/') + "/");
        return fake;
    }

    private async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        JsonElement body = default;
        try
        {
            body = (await JsonDocument.ParseAsync(request.Body)).RootElement.Clone();
        }
        catch (JsonException)
        {
            // answered below: "Problems parsing JSON"
        }

        var status = await AnswerAsync(http, body);
        _requests.Enqueue(new GitHubRequest(request.Method, request.Path.Value ?? string.Empty, request.Headers.Authorization.ToString(),
            request.Headers.Accept.ToString(), request.Headers["X-GitHub-Api-Version"].ToString(), request.Headers.UserAgent.ToString(),
            request.ContentType, body, status));
    }

    private async Task<int> AnswerAsync(HttpContext http, JsonElement body)
    {
        var request = http.Request;
        var path = StatusPath().Match(request.Path.Value ?? string.Empty);
        if (request.Method != HttpMethods.Post || !path.Success)
        {
            return await WriteAsync(http, 404, new { message = "Not Found", documentation_url = "https://docs.github.com/rest" });
        }

        if (request.Headers.Authorization.ToString() != $"Bearer {Token}")
        {
            return await WriteAsync(http, 401, new { message = "Bad credentials", documentation_url = "https://docs.github.com/rest" });
        }

        if (body.ValueKind == JsonValueKind.Undefined)
        {
            return await WriteAsync(http, 400, new { message = "Problems parsing JSON" });
        }

        if (Violations(body) is { Count: > 0 } violations)
        {
            return await WriteAsync(http, 422, new { message = "Validation Failed", errors = violations });
        }

        var (repository, sha) = (path.Groups["repo"].Value, path.Groups["sha"].Value);
        if (repository == "archived")
        {
            return await WriteAsync(http, 422, new { message = $"No commit found for SHA: {sha}" });
        }

        if (repository == "flaky" && _flaky.AddOrUpdate(sha, 1, (_, n) => n + 1) <= FailuresBeforeSuccess)
        {
            return await WriteAsync(http, 503, new { message = "Service Unavailable" });
        }

        return await WriteAsync(http, 201, new
        {
            url = $"https://api.github.com/repos/{path.Groups["owner"].Value}/{repository}/statuses/{sha}",
            id = _requests.Count + 1,
            state = body.GetProperty("state").GetString(),
            context = body.TryGetProperty("context", out var context) ? context.GetString() : "default",
            creator = new { login = "controlplane-bot" },
        });
    }

    /// <summary>What GitHub's documentation requires of the body; the failures, or none.</summary>
    public static IReadOnlyList<string> Violations(JsonElement body)
    {
        var problems = new List<string>();
        if (body.ValueKind != JsonValueKind.Object)
        {
            return ["the body is not a JSON object"];
        }

        problems.AddRange(body.EnumerateObject().Where(p => !Fields.Contains(p.Name)).Select(p => $"unknown field '{p.Name}'"));
        if (!body.TryGetProperty("state", out var state) || state.ValueKind != JsonValueKind.String || !States.Contains(state.GetString()!))
        {
            problems.Add("state must be one of error, failure, pending, success");
        }

        foreach (var name in new[] { "target_url", "description", "context" })
        {
            if (body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.String)
            {
                problems.Add($"{name} must be a string");
            }
        }

        return problems;
    }

    private static async Task<int> WriteAsync(HttpContext http, int status, object body)
    {
        http.Response.StatusCode = status;
        await http.Response.WriteAsJsonAsync(body);
        return status;
    }

    [GeneratedRegex("^/repos/(?<owner>[A-Za-z0-9-]+)/(?<repo>[A-Za-z0-9._-]+)/statuses/(?<sha>[0-9a-f]{40})$")]
    private static partial Regex StatusPath();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
