using System.Text.Json;

namespace ControlPlane.SystemGraph.Deployments;

/// <summary>
/// One deployment as a CI/CD system reported it, before it is mapped to a graph node. Subject is what names the
/// deployed thing at the source: the repository ("acme/billing") for GitHub, the application name for Argo CD.
/// Status is <see cref="DeploymentStatus"/>'s vocabulary.
/// </summary>
public sealed record DeploymentEvent(
    string Source,
    string Subject,
    string? Repository,
    string Environment,
    string Version,
    string Status,
    string? Actor,
    string? Url,
    DateTimeOffset At);

public static class DeploymentStatus
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string InProgress = "in-progress";
}

/// <summary>What a payload said: a deployment, a well-formed event that is not one (Ignored), or a bad field.</summary>
public sealed record ParsedDelivery(DeploymentEvent? Deployment, string? Ignored, string? Field = null, string? Error = null)
{
    public static ParsedDelivery Of(DeploymentEvent deployment) => new(deployment, null);

    public static ParsedDelivery Ignore(string reason) => new(null, reason);

    public static ParsedDelivery Invalid(string field, string error) => new(null, null, field, error);
}

/// <summary>
/// Reads the payloads GitHub documents for the <c>deployment_status</c> and <c>workflow_run</c> webhook events and the
/// Argo CD notification body the README's webhook template renders. Pure: no I/O, so every shape is unit-tested.
/// </summary>
public static class DeploymentPayloads
{
    public const string GitHubSource = "github";
    public const string ArgoCdSource = "argocd";

    /// <param name="workflowEnvironments">workflow name or path (".github/workflows/deploy.yml") → environment: only
    /// the listed workflows deploy; other workflow runs are ignored.</param>
    public static ParsedDelivery GitHub(string eventName, JsonElement body, IReadOnlyDictionary<string, string> workflowEnvironments) => eventName switch
    {
        "deployment_status" => DeploymentStatusEvent(body),
        "workflow_run" => WorkflowRun(body, workflowEnvironments),
        "ping" => ParsedDelivery.Ignore("ping"),
        _ => ParsedDelivery.Ignore($"event '{eventName}' does not report a deployment"),
    };

    private static ParsedDelivery DeploymentStatusEvent(JsonElement body)
    {
        var status = Child(body, "deployment_status");
        var deployment = Child(body, "deployment");
        var repository = Text(Child(body, "repository"), "full_name");
        var state = Text(status, "state");
        if (status is null || deployment is null || repository is null || state is null)
        {
            return ParsedDelivery.Invalid("deployment_status", "a deployment_status event carries deployment_status.state, deployment and repository.full_name.");
        }

        var mapped = state switch
        {
            "success" => DeploymentStatus.Succeeded,
            "failure" or "error" => DeploymentStatus.Failed,
            "pending" or "queued" or "in_progress" => DeploymentStatus.InProgress,
            _ => null, // "inactive": an older deployment was superseded; nothing new is deployed
        };
        if (mapped is null)
        {
            return ParsedDelivery.Ignore($"deployment state '{state}'");
        }

        var environment = Text(status, "environment") ?? Text(deployment, "environment");
        var sha = Text(deployment, "sha");
        if (environment is null || sha is null)
        {
            return ParsedDelivery.Invalid("deployment", "deployment.environment and deployment.sha are required.");
        }

        return ParsedDelivery.Of(new DeploymentEvent(GitHubSource, repository, repository, environment, sha, mapped,
            Text(Child(status, "creator"), "login") ?? Text(Child(body, "sender"), "login"),
            Text(status, "target_url") ?? Text(status, "log_url") ?? Text(status, "environment_url"),
            Time(status, "updated_at") ?? Time(status, "created_at") ?? DateTimeOffset.UtcNow));
    }

    private static ParsedDelivery WorkflowRun(JsonElement body, IReadOnlyDictionary<string, string> workflowEnvironments)
    {
        var run = Child(body, "workflow_run");
        var repository = Text(Child(body, "repository"), "full_name");
        if (run is null || repository is null)
        {
            return ParsedDelivery.Invalid("workflow_run", "a workflow_run event carries workflow_run and repository.full_name.");
        }

        if (Text(body, "action") != "completed")
        {
            return ParsedDelivery.Ignore($"workflow_run action '{Text(body, "action")}' (only completed runs deploy)");
        }

        var name = Text(run, "name");
        var path = Text(run, "path");
        if (!((name is not null && workflowEnvironments.TryGetValue(name, out var environment)) ||
              (path is not null && workflowEnvironments.TryGetValue(path, out environment))))
        {
            return ParsedDelivery.Ignore($"workflow '{name ?? path}' is not a deployment workflow (Deployments:GitHub:Workflows)");
        }

        var conclusion = Text(run, "conclusion");
        var status = conclusion switch
        {
            "success" => DeploymentStatus.Succeeded,
            "failure" or "timed_out" or "startup_failure" => DeploymentStatus.Failed,
            _ => null, // cancelled, skipped, neutral, action_required, stale: nothing was deployed
        };
        var sha = Text(run, "head_sha");
        if (status is null)
        {
            return ParsedDelivery.Ignore($"workflow run conclusion '{conclusion}'");
        }

        if (sha is null)
        {
            return ParsedDelivery.Invalid("workflow_run.head_sha", "required.");
        }

        return ParsedDelivery.Of(new DeploymentEvent(GitHubSource, repository, repository, environment, sha, status,
            Text(Child(run, "triggering_actor"), "login") ?? Text(Child(run, "actor"), "login"),
            Text(run, "html_url"), Time(run, "updated_at") ?? DateTimeOffset.UtcNow));
    }

    /// <summary>The body of the documented Argo CD webhook template: app, environment, revision, phase, finishedAt, repository, url.</summary>
    public static ParsedDelivery ArgoCd(JsonElement body)
    {
        var app = Text(body, "app");
        var environment = Text(body, "environment");
        var revision = Text(body, "revision");
        var phase = Text(body, "phase");
        foreach (var (field, value) in new[] { ("app", app), ("environment", environment), ("revision", revision), ("phase", phase) })
        {
            if (value is null)
            {
                return ParsedDelivery.Invalid(field, "required (see the Argo CD webhook template in the README).");
            }
        }

        var status = phase switch
        {
            "Succeeded" => DeploymentStatus.Succeeded,
            "Failed" or "Error" => DeploymentStatus.Failed,
            "Running" or "Terminating" => DeploymentStatus.InProgress,
            _ => null,
        };
        return status is null
            ? ParsedDelivery.Ignore($"operation phase '{phase}'")
            : ParsedDelivery.Of(new DeploymentEvent(ArgoCdSource, app!, Text(body, "repository"), environment!, revision!, status,
                Text(body, "actor"), Text(body, "url"), Time(body, "finishedAt") ?? DateTimeOffset.UtcNow));
    }

    private static JsonElement? Child(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var child) && child.ValueKind == JsonValueKind.Object ? child : null;

    private static string? Text(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s
            ? s.Trim()
            : null;

    private static DateTimeOffset? Time(JsonElement? parent, string name) =>
        Text(parent, name) is { } s && DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : null;
}
