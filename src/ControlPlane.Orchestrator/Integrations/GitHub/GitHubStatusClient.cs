using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.ServiceDefaults.Messaging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Orchestrator.Integrations.GitHub;

/// <summary>
/// Creates commit statuses through GitHub's REST API with the headers its documentation prescribes. A server error,
/// a rate limit (429, or 403 with no requests remaining) or no answer is transient (the bus retries, so an outage
/// delays the status but never loses it); any other 4xx is permanent and the message is rejected with GitHub's reason.
/// </summary>
public sealed class GitHubStatusClient(HttpClient http, IOptionsMonitor<GitHubOptions> options)
{
    public const string HttpClientName = "github";
    public const string ApiVersion = "2022-11-28";
    public const string MediaType = "application/vnd.github+json";
    public const string UserAgent = "ControlPlane-Orchestrator";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public async Task CreateStatusAsync(string repository, string sha, CommitStatusBody body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var settings = options.CurrentValue;
        var root = settings.ApiBaseUrl.ToString().TrimEnd('/');
        var parts = repository.Split('/', 2);
        var uri = new Uri($"{root}/repos/{Uri.EscapeDataString(parts[0])}/{Uri.EscapeDataString(parts[1])}/statuses/{Uri.EscapeDataString(sha)}");
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = JsonContent.Create(body, options: Json) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaType));
        request.Headers.Add("X-GitHub-Api-Version", ApiVersion);
        request.Headers.UserAgent.ParseAdd(UserAgent);

        using var response = await http.SendAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var detail = await response.Content.ReadAsStringAsync(cancellationToken);
        detail = detail.Length > 300 ? detail[..300] : detail;
        var status = (int)response.StatusCode;
        var rateLimited = response.StatusCode == HttpStatusCode.TooManyRequests ||
            (response.StatusCode == HttpStatusCode.Forbidden && response.Headers.TryGetValues("x-ratelimit-remaining", out var remaining) && remaining.FirstOrDefault() == "0");
        if (status >= 500 || rateLimited || response.StatusCode == HttpStatusCode.RequestTimeout)
        {
            throw new TransientDependencyException($"GitHub answered {status} to the commit status for {repository}@{sha}; retrying later.");
        }

        throw new MessageRejectedException($"GitHub refused the commit status for {repository}@{sha}: {status} {detail}");
    }
}
