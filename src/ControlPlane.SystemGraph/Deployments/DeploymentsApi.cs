using System.Text.Json;
using ControlPlane.ServiceDefaults.Health;
using ControlPlane.ServiceDefaults.Security;
using ControlPlane.SystemGraph.Graph;
using Microsoft.Extensions.Options;

namespace ControlPlane.SystemGraph.Deployments;

/// <summary>
/// CI/CD deployment events in, "what is deployed where" out. The two webhooks carry no bearer token (GitHub and Argo CD
/// cannot obtain one): they are anonymous at the authorization layer by design and authenticated by an HMAC over
/// the raw body with a per-source secret instead; without a configured secret they refuse everything.
/// </summary>
public static partial class DeploymentsApi
{
    public const string GitHubEventHeader = "X-GitHub-Event";
    public const string GitHubDeliveryHeader = "X-GitHub-Delivery";
    public const string DeliveryHeader = "X-ControlPlane-Delivery";
    public const int MaxBodyBytes = 1024 * 1024;
    public const int MaxDeliveryIdLength = 200;

    public static IEndpointRouteBuilder MapDeploymentsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/graph/deployments").WithTags("Deployments");
        api.MapPost("/github", GitHubAsync)
            .AllowAnonymous().WithMetadata(new AnonymousByDesign("GitHub webhook: authenticated by X-Hub-Signature-256 (HMAC of the body), not a bearer token"))
            .WithSummary("GitHub deployment_status and workflow_run webhook deliveries (signed with the webhook secret)");
        api.MapPost("/argocd", ArgoCdAsync)
            .AllowAnonymous().WithMetadata(new AnonymousByDesign("Argo CD notification webhook: authenticated by X-ControlPlane-Signature (HMAC with a timestamp), not a bearer token"))
            .WithSummary("Argo CD notification deliveries (the README's webhook template, signed with X-ControlPlane-Signature)");
        api.MapGet("/", ListAsync).RequirePermission(Permissions.GraphRead)
            .WithSummary("What is deployed where (?node=&environment=): the current version per node and environment, open drift, and the latest deployments");
        return app;
    }

    private static async Task<IResult> GitHubAsync(HttpContext http, IOptionsMonitor<DeploymentOptions> monitor, DeploymentStore store,
        GraphSnapshotCache graph, ILogger<DeploymentStore> logger, CancellationToken ct)
    {
        var options = monitor.CurrentValue;
        if (string.IsNullOrEmpty(options.GitHub.Secret))
        {
            return NotConfigured("GitHub", "Deployments:GitHub:Secret");
        }

        if (await ReadBodyAsync(http.Request, ct) is not { } body)
        {
            return TooLarge();
        }

        var failure = DeliverySignature.VerifyGitHub(options.GitHub.Secret, body, http.Request.Headers[DeliverySignature.GitHubHeader]);
        if (failure != SignatureFailure.None)
        {
            return Unauthorized(failure, DeliverySignature.GitHubHeader, "sha256=<hex HMAC-SHA256 of the raw body with the webhook secret>");
        }

        var eventName = http.Request.Headers[GitHubEventHeader].ToString();
        var delivery = http.Request.Headers[GitHubDeliveryHeader].ToString();
        if (eventName.Length == 0 || !ValidDelivery(delivery))
        {
            return Results.ValidationProblem(new Dictionary<string, string[]>
            {
                [eventName.Length == 0 ? GitHubEventHeader : GitHubDeliveryHeader] = [$"GitHub sends {GitHubEventHeader} and {GitHubDeliveryHeader} (1-{MaxDeliveryIdLength} characters) with every delivery."],
            });
        }

        return ParseJson(body) is not { } json
            ? InvalidJson()
            : await ApplyAsync(DeploymentPayloads.GitHub(eventName, json, options.GitHub.Workflows), delivery, options, store, graph, logger, ct);
    }

    private static async Task<IResult> ArgoCdAsync(HttpContext http, IOptionsMonitor<DeploymentOptions> monitor, DeploymentStore store,
        GraphSnapshotCache graph, TimeProvider time, ILogger<DeploymentStore> logger, CancellationToken ct)
    {
        var options = monitor.CurrentValue;
        if (string.IsNullOrEmpty(options.ArgoCd.Secret))
        {
            return NotConfigured("Argo CD", "Deployments:ArgoCd:Secret");
        }

        if (await ReadBodyAsync(http.Request, ct) is not { } body)
        {
            return TooLarge();
        }

        var failure = DeliverySignature.VerifyPlane(options.ArgoCd.Secret, body, http.Request.Headers[DeliverySignature.PlaneHeader], time.GetUtcNow(), options.ReplayWindow);
        if (failure != SignatureFailure.None)
        {
            return Unauthorized(failure, DeliverySignature.PlaneHeader, "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\" with the secret>");
        }

        var delivery = http.Request.Headers[DeliveryHeader].ToString();
        if (!ValidDelivery(delivery))
        {
            return Results.ValidationProblem(new Dictionary<string, string[]>
            {
                [DeliveryHeader] = [$"required: a unique id per delivery (1-{MaxDeliveryIdLength} characters); a repeated id is answered but not applied again."],
            });
        }

        return ParseJson(body) is not { } json
            ? InvalidJson()
            : await ApplyAsync(DeploymentPayloads.ArgoCd(json), delivery, options, store, graph, logger, ct);
    }

    private static async Task<IResult> ApplyAsync(ParsedDelivery parsed, string delivery, DeploymentOptions options, DeploymentStore store,
        GraphSnapshotCache graph, ILogger logger, CancellationToken ct)
    {
        if (parsed.Field is not null)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { [parsed.Field] = [parsed.Error!] });
        }

        if (parsed.Deployment is not { } deployment)
        {
            return Results.Accepted(value: new { delivery, ignored = parsed.Ignored });
        }

        var snapshot = await graph.GetAsync(ct);
        if (DeploymentMapping.NodeFor(deployment, options, id => snapshot.TryGetIndex(id, out _)) is not { } node)
        {
            var (what, key) = deployment.Source == DeploymentPayloads.GitHubSource
                ? ("repository", "Deployments:GitHub:Repositories")
                : ("application", "Deployments:ArgoCd:Applications");
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: $"Unknown {what}",
                detail: $"No graph node for {what} '{deployment.Subject}' in graph version {snapshot.Version}: name the node after it or map it in {key}.");
        }

        var environment = options.Environment(deployment.Environment);
        if (!GraphVocabulary.IsSlug(environment))
        {
            return Results.ValidationProblem(new Dictionary<string, string[]>
            {
                ["environment"] = [$"'{deployment.Environment}' is not an environment name (a slug such as 'production'); map it in Deployments:Environments."],
            });
        }

        var outcome = await store.RecordAsync(delivery, deployment, node, environment, options.GovernedWindow, ct);
        LogDelivery(logger, deployment.Source, delivery, node, environment, deployment.Status, outcome.Deployment.Drift, outcome.Duplicate);
        var result = new { delivery, duplicate = outcome.Duplicate, deployment = outcome.Deployment };
        return outcome.Duplicate ? Results.Ok(result) : Results.Created($"/graph/deployments?node={node}&environment={environment}", result);
    }

    private static async Task<IResult> ListAsync(string? node, string? environment, int? limit, DeploymentStore store, CancellationToken ct)
    {
        if (limit is < 1 or > 1000)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = ["limit must be between 1 and 1000."] });
        }

        var current = await store.CurrentAsync(node, environment, ct);
        var drift = await store.OpenDriftAsync(node, environment, ct);
        var latest = await store.ListAsync(node, environment, limit ?? 50, ct);
        return Results.Ok(new { current, drift, deployments = latest });
    }

    /// <summary>The raw body, as signed; null when it is larger than <see cref="MaxBodyBytes"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static JsonElement? ParseJson(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool ValidDelivery(string delivery) => delivery.Length is > 0 and <= MaxDeliveryIdLength && !delivery.Any(char.IsControl);

    private static IResult NotConfigured(string source, string key) =>
        Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: $"{source} deployments are not enabled",
            detail: $"No webhook secret is configured ({key}), so no delivery can be authenticated and every one is refused.");

    private static IResult Unauthorized(SignatureFailure failure, string header, string format) =>
        Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: failure switch
        {
            SignatureFailure.Missing => "Missing signature",
            SignatureFailure.Malformed => "Malformed signature",
            SignatureFailure.Stale => "Signature outside the replay window",
            _ => "Signature does not match",
        }, detail: failure == SignatureFailure.Stale
            ? $"The signed timestamp in {header} is too far from now; sign each delivery when it is sent."
            : $"{header} must be {format}.");

    private static IResult TooLarge() =>
        Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Delivery too large", detail: $"A delivery is at most {MaxBodyBytes / 1024} KiB.");

    private static IResult InvalidJson() =>
        Results.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["The body must be one JSON object."] });

    [LoggerMessage(Level = LogLevel.Information, Message = "Deployment delivery {Source}/{Delivery}: {Node} in {Environment} {Status}, drift {Drift}, duplicate {Duplicate}")]
    private static partial void LogDelivery(ILogger logger, string source, string delivery, string node, string environment, string status, bool drift, bool duplicate);
}
