using System.Text.Json;
using ControlPlane.SystemGraph.Deployments;

namespace ControlPlane.SystemGraph.Tests.Deployments;

public sealed class DeploymentPayloadsTests
{
    private static readonly Dictionary<string, string> Workflows = new(StringComparer.Ordinal) { ["Deploy production"] = "production" };

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    [Fact]
    public void A_successful_deployment_status_is_the_commit_deployed_to_its_environment()
    {
        var parsed = DeploymentPayloads.GitHub("deployment_status", Json(GitHubSamples.DeploymentStatus("acme/billing", "production", "success")), Workflows);

        var d = Assert.IsType<DeploymentEvent>(parsed.Deployment);
        Assert.Equal(("github", "acme/billing", "production", GitHubSamples.Sha, DeploymentStatus.Succeeded), (d.Source, d.Subject, d.Environment, d.Version, d.Status));
        Assert.Equal("octocat", d.Actor);
        Assert.Equal("https://ci.example.com/deploy/42", d.Url);
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero), d.At);
    }

    [Theory]
    [InlineData("failure", DeploymentStatus.Failed)]
    [InlineData("error", DeploymentStatus.Failed)]
    [InlineData("in_progress", DeploymentStatus.InProgress)]
    [InlineData("queued", DeploymentStatus.InProgress)]
    public void Other_deployment_states_are_recorded_with_their_status(string state, string expected) =>
        Assert.Equal(expected, DeploymentPayloads.GitHub("deployment_status", Json(GitHubSamples.DeploymentStatus("acme/billing", "staging", state)), Workflows).Deployment!.Status);

    [Fact]
    public void An_inactive_deployment_a_ping_and_other_events_are_ignored_not_refused()
    {
        Assert.Contains("inactive", DeploymentPayloads.GitHub("deployment_status", Json(GitHubSamples.DeploymentStatus("acme/billing", "production", "inactive")), Workflows).Ignored);
        Assert.Equal("ping", DeploymentPayloads.GitHub("ping", Json("""{"zen":"Keep it logically awesome."}"""), Workflows).Ignored);
        Assert.NotNull(DeploymentPayloads.GitHub("push", Json("{}"), Workflows).Ignored);
    }

    [Fact]
    public void A_deployment_status_without_its_deployment_is_a_bad_field()
    {
        var parsed = DeploymentPayloads.GitHub("deployment_status", Json("""{"deployment_status":{"state":"success"},"repository":{"full_name":"acme/billing"}}"""), Workflows);

        Assert.Equal("deployment_status", parsed.Field);
        Assert.Null(parsed.Deployment);
    }

    [Fact]
    public void A_completed_run_of_a_deployment_workflow_is_a_deployment_of_its_head_commit()
    {
        var parsed = DeploymentPayloads.GitHub("workflow_run", Json(GitHubSamples.WorkflowRun("acme/billing", "Deploy production", "completed", "success")), Workflows);

        var d = Assert.IsType<DeploymentEvent>(parsed.Deployment);
        Assert.Equal(("acme/billing", "production", GitHubSamples.Sha, DeploymentStatus.Succeeded, "octocat"), (d.Subject, d.Environment, d.Version, d.Status, d.Actor));
        Assert.Equal("https://github.com/acme/billing/actions/runs/30433642", d.Url);
    }

    [Fact]
    public void Runs_of_other_workflows_runs_in_progress_and_cancelled_runs_are_ignored()
    {
        Assert.NotNull(DeploymentPayloads.GitHub("workflow_run", Json(GitHubSamples.WorkflowRun("acme/billing", "CI", "completed", "success")), Workflows).Ignored);
        Assert.NotNull(DeploymentPayloads.GitHub("workflow_run", Json(GitHubSamples.WorkflowRun("acme/billing", "Deploy production", "in_progress", null)), Workflows).Ignored);
        Assert.NotNull(DeploymentPayloads.GitHub("workflow_run", Json(GitHubSamples.WorkflowRun("acme/billing", "Deploy production", "completed", "cancelled")), Workflows).Ignored);
        Assert.Equal(DeploymentStatus.Failed,
            DeploymentPayloads.GitHub("workflow_run", Json(GitHubSamples.WorkflowRun("acme/billing", "Deploy production", "completed", "failure")), Workflows).Deployment!.Status);
    }

    [Fact]
    public void The_Argo_CD_template_body_is_a_deployment_of_the_synced_revision()
    {
        var parsed = DeploymentPayloads.ArgoCd(Json(ArgoCdSamples.Notification("billing", "production", "Succeeded")));

        var d = Assert.IsType<DeploymentEvent>(parsed.Deployment);
        Assert.Equal(("argocd", "billing", "production", ArgoCdSamples.Revision, DeploymentStatus.Succeeded), (d.Source, d.Subject, d.Environment, d.Version, d.Status));
        Assert.Equal("https://github.com/acme/deploy.git", d.Repository);
    }

    [Fact]
    public void An_Argo_CD_body_without_its_app_is_a_bad_field_and_an_unknown_phase_is_ignored()
    {
        Assert.Equal("app", DeploymentPayloads.ArgoCd(Json("""{"environment":"production","revision":"abc","phase":"Succeeded"}""")).Field);
        Assert.NotNull(DeploymentPayloads.ArgoCd(Json(ArgoCdSamples.Notification("billing", "production", "Pending"))).Ignored);
    }

    [Fact]
    public void A_repository_or_application_maps_to_the_configured_node_else_to_the_node_of_its_name()
    {
        var options = new DeploymentOptions();
        options.GitHub.Repositories["acme/ledger-service"] = "ledger-db";
        options.ArgoCd.Applications["billing-prod"] = "billing";
        var nodes = new HashSet<string>(StringComparer.Ordinal) { "billing", "ledger-db" };
        DeploymentEvent Event(string source, string subject) => new(source, subject, null, "production", "v1", DeploymentStatus.Succeeded, null, null, DateTimeOffset.UnixEpoch);

        Assert.Equal("billing", DeploymentMapping.NodeFor(Event("github", "acme/Billing"), options, nodes.Contains));
        Assert.Equal("ledger-db", DeploymentMapping.NodeFor(Event("github", "acme/ledger-service"), options, nodes.Contains));
        Assert.Equal("billing", DeploymentMapping.NodeFor(Event("argocd", "billing-prod"), options, nodes.Contains));
        Assert.Null(DeploymentMapping.NodeFor(Event("github", "acme/unknown"), options, nodes.Contains));
        Assert.Null(DeploymentMapping.NodeFor(Event("argocd", "Not A Slug"), options, nodes.Contains));
    }

    [Fact]
    public void Environment_names_map_through_configuration_and_are_otherwise_lowercased()
    {
        var options = new DeploymentOptions { Environments = new(StringComparer.OrdinalIgnoreCase) { ["prod"] = "production" } };

        Assert.Equal("production", options.Environment("PROD"));
        Assert.Equal("staging", options.Environment("Staging"));
    }
}

/// <summary>Webhook payloads shaped as GitHub's REST documentation shows them (only the fields the plane reads, plus neighbours).</summary>
internal static class GitHubSamples
{
    public const string Sha = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";

    public static string DeploymentStatus(string repository, string environment, string state) => $$"""
        {
          "action": "created",
          "deployment_status": {
            "url": "https://api.github.com/repos/{{repository}}/deployments/42/statuses/1",
            "id": 1, "state": "{{state}}", "creator": { "login": "octocat", "id": 1 },
            "description": "Deployment finished", "environment": "{{environment}}",
            "target_url": "https://ci.example.com/deploy/42", "created_at": "2026-12-04T11:59:00Z", "updated_at": "2026-12-04T12:00:00Z",
            "environment_url": "", "log_url": "https://ci.example.com/deploy/42"
          },
          "deployment": {
            "url": "https://api.github.com/repos/{{repository}}/deployments/42", "id": 42,
            "sha": "{{Sha}}", "ref": "main", "task": "deploy", "payload": {}, "environment": "{{environment}}",
            "creator": { "login": "octocat", "id": 1 }, "created_at": "2026-12-04T11:58:00Z", "updated_at": "2026-12-04T12:00:00Z"
          },
          "repository": { "id": 1296269, "name": "{{repository[(repository.IndexOf('/') + 1)..]}}", "full_name": "{{repository}}" },
          "sender": { "login": "octocat", "id": 1 }
        }
        """;

    public static string WorkflowRun(string repository, string workflow, string action, string? conclusion) => $$"""
        {
          "action": "{{action}}",
          "workflow_run": {
            "id": 30433642, "name": "{{workflow}}", "path": ".github/workflows/deploy.yml", "head_branch": "main",
            "head_sha": "{{Sha}}", "run_number": 562, "event": "push",
            "status": "{{(action == "completed" ? "completed" : "in_progress")}}", "conclusion": {{(conclusion is null ? "null" : $"\"{conclusion}\"")}},
            "html_url": "https://github.com/{{repository}}/actions/runs/30433642",
            "created_at": "2026-12-04T11:50:00Z", "updated_at": "2026-12-04T12:00:00Z",
            "actor": { "login": "octocat" }, "triggering_actor": { "login": "octocat" }
          },
          "workflow": { "id": 159038, "name": "{{workflow}}", "path": ".github/workflows/deploy.yml" },
          "repository": { "id": 1296269, "full_name": "{{repository}}" },
          "sender": { "login": "octocat" }
        }
        """;
}

/// <summary>What the README's Argo CD webhook template renders.</summary>
internal static class ArgoCdSamples
{
    public const string Revision = "9f2c1e0b7a6d5c4b3a29180706f5e4d3c2b1a098";

    public static string Notification(string app, string environment, string phase) => $$"""
        {
          "app": "{{app}}", "environment": "{{environment}}", "revision": "{{Revision}}",
          "repository": "https://github.com/acme/deploy.git", "phase": "{{phase}}", "syncStatus": "Synced", "healthStatus": "Healthy",
          "finishedAt": "2026-12-04T12:00:00Z", "url": "https://argocd.example.com/applications/{{app}}", "actor": "admin"
        }
        """;
}
