using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.SystemGraph.Deployments;
using ControlPlane.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.SystemGraph.Tests.Deployments;

/// <summary>The webhooks end to end on the real service: signatures, replay, mapping, what is deployed where, drift and its policy fact.</summary>
[Collection(DeploymentCollection.Name)]
public sealed class DeploymentWebhookTests(DeploymentFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string SampleTime = "2026-12-04T12:00:00Z";

    private HttpClient Anonymous() => fixture.Plane.Host.CreateHttpClient();

    private static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

    private static string Delivery() => Guid.NewGuid().ToString();

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task A_deployment_outside_the_plane_is_recorded_as_drift_and_becomes_the_driftDetected_fact_of_the_next_assessment()
    {
        using var http = Anonymous();
        var body = GitHubSamples.DeploymentStatus("acme/search", "production", "success").Replace(SampleTime, Now(), StringComparison.Ordinal);
        var delivery = Delivery();

        using var response = await http.SendAsync(DeploymentFixture.GitHubDelivery("deployment_status", body, delivery));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        var deployment = result.GetProperty("deployment");
        Assert.Equal(("search", "production", GitHubSamples.Sha, true),
            (deployment.GetProperty("nodeId").GetString(), deployment.GetProperty("environment").GetString(), deployment.GetProperty("version").GetString(),
             deployment.GetProperty("drift").GetBoolean()));
        var drift = await Eventually.UntilAsync(() => Task.FromResult(fixture.Plane.Bus.Received<DeploymentDriftDetected>().Where(m => m.Message.DeliveryId == delivery).ToList()),
            m => m.Count >= 1, Wait, "DeploymentDriftDetected for the search deployment");
        Assert.Equal(("search", "production", "github", "acme/search", "octocat"),
            (drift[0].Message.NodeId, drift[0].Message.Environment, drift[0].Message.Source, drift[0].Message.Repository, drift[0].Message.Actor));

        using var reader = await fixture.Plane.ClientAsync(DeploymentFixture.Viewer);
        var where = await reader.GetFromJsonAsync<JsonElement>("graph/deployments?node=search&environment=production");
        Assert.Equal(GitHubSamples.Sha, Assert.Single(where.GetProperty("current").EnumerateArray()).GetProperty("version").GetString());
        Assert.Equal("search", Assert.Single(where.GetProperty("drift").EnumerateArray()).GetProperty("nodeId").GetString());

        var proposal = Proposal("search", "production");
        await fixture.Plane.Bus.PublishAsync(proposal, Guid.NewGuid());
        var assessed = await Eventually.UntilAsync(() => Task.FromResult(fixture.Plane.Bus.Received<ImpactAssessed>().Where(m => m.Message.ProposalId == proposal.ProposalId).ToList()),
            m => m.Count >= 1, Wait, "ImpactAssessed for a proposal on the drifted node");
        var impact = assessed[0].Message.Impact;
        Assert.True(impact.DriftDetected);
        Assert.NotNull(impact.DriftSince);
        Assert.Contains(impact.Reasons, r => r.StartsWith("deployed outside the plane: search in production since ", StringComparison.Ordinal));

        // The same node elsewhere has no drift.
        var elsewhere = await reader.GetFromJsonAsync<ImpactReport>("graph/impact?targets=search&environment=staging", ContractJson.Options);
        Assert.False(elsewhere!.DriftDetected);
    }

    [Fact]
    public async Task Only_the_start_of_execution_and_the_end_of_a_proposal_are_written()
    {
        var store = fixture.Plane.Host.Services.GetRequiredService<DeploymentStore>();
        var ct = TestContext.Current.CancellationToken;
        var id = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow;
        ProposalStateChanged Step(ProposalState from, ProposalState to, int version) => new(id, from, to, "step", "orchestrator", version, at.AddSeconds(version));
        var rows = $"select count(*) from governed_changes where proposal_id = '{id}'";

        await store.RecordStateAsync(Step(ProposalState.Submitted, ProposalState.Assessing, 1), ct);
        await store.RecordStateAsync(Step(ProposalState.Assessing, ProposalState.AwaitingApproval, 2), ct);
        await store.RecordStateAsync(Step(ProposalState.AwaitingApproval, ProposalState.Authorized, 3), ct);
        await store.RecordStateAsync(Step(ProposalState.Authorized, ProposalState.Scheduled, 4), ct);
        var afterSteps = await fixture.Plane.CountAsync(rows);

        await store.RecordStateAsync(Step(ProposalState.Scheduled, ProposalState.Executing, 5), ct);
        await store.RecordStateAsync(Step(ProposalState.Executing, ProposalState.Verifying, 6), ct);
        await store.RecordStateAsync(Step(ProposalState.Verifying, ProposalState.Completed, 7), ct);

        Assert.Equal(0, afterSteps);
        Assert.Equal(1, await fixture.Plane.CountAsync(rows + " and state = 'completed' and executing_at is not null and finished_at is not null"));
    }

    [Fact]
    public async Task A_deployment_while_the_plane_executes_a_change_on_that_node_is_governed_not_drift_and_a_completed_change_closes_drift()
    {
        using var http = Anonymous();
        // An earlier ungoverned deployment leaves drift on notifications in staging ...
        var early = ArgoCdSamples.Notification("notifications", "staging", "Succeeded").Replace(SampleTime, DateTimeOffset.UtcNow.AddHours(-2).ToString("O"), StringComparison.Ordinal);
        using (var first = await http.SendAsync(DeploymentFixture.ArgoCdDelivery(early, Delivery(), DateTimeOffset.UtcNow)))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        using var reader = await fixture.Plane.ClientAsync(DeploymentFixture.Viewer);
        Assert.True((await reader.GetFromJsonAsync<ImpactReport>("graph/impact?targets=notifications&environment=staging", ContractJson.Options))!.DriftDetected);

        // ... then the plane executes a change on it, and CI/CD reports that deployment.
        var proposal = Proposal("notifications", "staging");
        await fixture.Plane.Bus.PublishAsync(proposal, Guid.NewGuid());
        await fixture.Plane.Bus.PublishAsync(new ProposalStateChanged(proposal.ProposalId, ProposalState.Scheduled, ProposalState.Executing, "work issued", "orchestrator", 7, DateTimeOffset.UtcNow), Guid.NewGuid());
        await Eventually.UntilAsync(async () => await fixture.Plane.CountAsync(
            $"select count(*) from governed_changes where proposal_id = '{proposal.ProposalId}' and executing_at is not null and cardinality(targets) = 1") == 1, Wait, "the executing proposal recorded");

        var body = ArgoCdSamples.Notification("notifications", "staging", "Succeeded").Replace(SampleTime, Now(), StringComparison.Ordinal);
        var delivery = Delivery();
        using var response = await http.SendAsync(DeploymentFixture.ArgoCdDelivery(body, delivery, DateTimeOffset.UtcNow));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var deployment = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deployment");
        Assert.False(deployment.GetProperty("drift").GetBoolean());
        Assert.Equal(proposal.ProposalId, deployment.GetProperty("governedBy").GetGuid());

        await fixture.Plane.Bus.PublishAsync(new ProposalStateChanged(proposal.ProposalId, ProposalState.Verifying, ProposalState.Completed, "verified", "orchestrator", 9, DateTimeOffset.UtcNow.AddSeconds(1)), Guid.NewGuid());
        await Eventually.UntilAsync(async () => !(await reader.GetFromJsonAsync<ImpactReport>("graph/impact?targets=notifications&environment=staging", ContractJson.Options))!.DriftDetected,
            Wait, "drift on notifications closed by the completed governed change");
        Assert.DoesNotContain(fixture.Plane.Bus.Received<DeploymentDriftDetected>(), m => m.Message.DeliveryId == delivery);
    }

    [Fact]
    public async Task An_Argo_CD_delivery_maps_its_environment_and_a_replayed_delivery_is_answered_but_not_applied_twice()
    {
        using var http = Anonymous();
        var body = ArgoCdSamples.Notification("auth", "prod", "Succeeded").Replace(SampleTime, Now(), StringComparison.Ordinal);
        var delivery = Delivery();

        using var first = await http.SendAsync(DeploymentFixture.ArgoCdDelivery(body, delivery, DateTimeOffset.UtcNow));
        using var again = await http.SendAsync(DeploymentFixture.ArgoCdDelivery(body, delivery, DateTimeOffset.UtcNow));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var repeat = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(repeat.GetProperty("duplicate").GetBoolean());
        Assert.Equal("production", repeat.GetProperty("deployment").GetProperty("environment").GetString());
        Assert.Equal(1, await fixture.Plane.CountAsync($"select count(*) from deployments where delivery_id = '{delivery}'"));
        await Eventually.UntilAsync(async () => await fixture.Plane.CountAsync("select count(*) from outbox_messages where sent_at is null") == 0, Wait, "the outbox to drain");
        Assert.Single(fixture.Plane.Bus.Received<DeploymentDriftDetected>(), m => m.Message.DeliveryId == delivery);
    }

    [Fact]
    public async Task A_completed_deployment_workflow_run_is_recorded_and_a_repository_maps_through_configuration()
    {
        using var http = Anonymous();
        var body = GitHubSamples.WorkflowRun("acme/ledger-service", "Deploy production", "completed", "success").Replace(SampleTime, Now(), StringComparison.Ordinal);

        using var response = await http.SendAsync(DeploymentFixture.GitHubDelivery("workflow_run", body, Delivery()));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var deployment = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deployment");
        Assert.Equal(("ledger-db", "production", "succeeded"),
            (deployment.GetProperty("nodeId").GetString(), deployment.GetProperty("environment").GetString(), deployment.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task A_ping_is_accepted_and_changes_nothing()
    {
        using var http = Anonymous();
        var before = await fixture.Plane.CountAsync("select count(*) from deployments");

        using var response = await http.SendAsync(DeploymentFixture.GitHubDelivery("ping", """{"zen":"Design for failure.","hook_id":1}""", Delivery()));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("ping", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ignored").GetString());
        Assert.Equal(before, await fixture.Plane.CountAsync("select count(*) from deployments"));
    }

    [Fact]
    public async Task A_wrong_or_missing_signature_is_401_and_records_nothing()
    {
        using var http = Anonymous();
        var body = GitHubSamples.DeploymentStatus("acme/billing", "production", "success");
        var wrong = Delivery();
        var missing = Delivery();

        using var bad = await http.SendAsync(DeploymentFixture.GitHubDelivery("deployment_status", body, wrong, secret: "not-the-secret"));
        using var none = await http.SendAsync(DeploymentFixture.GitHubDelivery("deployment_status", body, missing, secret: null));

        Assert.Equal("Signature does not match", (await ProblemAsync(bad, HttpStatusCode.Unauthorized)).GetProperty("title").GetString());
        Assert.Equal("Missing signature", (await ProblemAsync(none, HttpStatusCode.Unauthorized)).GetProperty("title").GetString());
        Assert.Equal(0, await fixture.Plane.CountAsync($"select count(*) from deployment_deliveries where delivery_id in ('{wrong}', '{missing}')"));
    }

    [Fact]
    public async Task An_Argo_CD_delivery_signed_outside_the_replay_window_or_for_another_body_is_401()
    {
        using var http = Anonymous();
        var body = ArgoCdSamples.Notification("auth", "production", "Succeeded");

        using var old = await http.SendAsync(DeploymentFixture.ArgoCdDelivery(body, Delivery(), DateTimeOffset.UtcNow.AddMinutes(-10)));
        using var future = await http.SendAsync(DeploymentFixture.ArgoCdDelivery(body, Delivery(), DateTimeOffset.UtcNow.AddMinutes(10)));
        using var tampered = DeploymentFixture.ArgoCdDelivery(body, Delivery(), DateTimeOffset.UtcNow);
        tampered.Content = new StringContent(body.Replace("\"auth\"", "\"billing\"", StringComparison.Ordinal), System.Text.Encoding.UTF8, "application/json");
        using var changed = await http.SendAsync(tampered);

        Assert.Equal("Signature outside the replay window", (await ProblemAsync(old, HttpStatusCode.Unauthorized)).GetProperty("title").GetString());
        Assert.Equal("Signature outside the replay window", (await ProblemAsync(future, HttpStatusCode.Unauthorized)).GetProperty("title").GetString());
        Assert.Equal("Signature does not match", (await ProblemAsync(changed, HttpStatusCode.Unauthorized)).GetProperty("title").GetString());
    }

    [Fact]
    public async Task An_unknown_repository_is_404_and_bad_deliveries_are_400_never_5xx()
    {
        using var http = Anonymous();

        using var unknown = await http.SendAsync(DeploymentFixture.GitHubDelivery("deployment_status", GitHubSamples.DeploymentStatus("acme/no-such-service", "production", "success"), Delivery()));
        using var notJson = await http.SendAsync(DeploymentFixture.GitHubDelivery("deployment_status", "{not json", Delivery()));
        using var noDelivery = DeploymentFixture.ArgoCdDelivery(ArgoCdSamples.Notification("auth", "production", "Succeeded"), "x", DateTimeOffset.UtcNow);
        noDelivery.Headers.Remove("X-ControlPlane-Delivery");
        using var missingDelivery = await http.SendAsync(noDelivery);
        using var badEnvironment = await http.SendAsync(DeploymentFixture.GitHubDelivery("deployment_status", GitHubSamples.DeploymentStatus("acme/billing", "Prod EU!", "success"), Delivery()));

        Assert.Contains("acme/no-such-service", (await ProblemAsync(unknown, HttpStatusCode.NotFound)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True((await ProblemAsync(notJson, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("body", out _));
        Assert.True((await ProblemAsync(missingDelivery, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("X-ControlPlane-Delivery", out _));
        Assert.True((await ProblemAsync(badEnvironment, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("environment", out _));
    }

    [Fact]
    public async Task Without_a_configured_secret_every_delivery_is_refused()
    {
        var settings = fixture.Plane.Settings.ToDictionary(kv => kv.Key, kv => kv.Value);
        settings["Deployments:GitHub:Secret"] = "";
        settings.Remove("Deployments:ArgoCd:Secret");
        await using var host = new ServiceHost<SystemGraphService>(settings);
        await host.WaitUntilReadyAsync();
        using var http = host.CreateHttpClient();

        using var github = await http.SendAsync(DeploymentFixture.GitHubDelivery("deployment_status", GitHubSamples.DeploymentStatus("acme/billing", "production", "success"), Delivery(), secret: ""));
        using var argo = await http.SendAsync(DeploymentFixture.ArgoCdDelivery(ArgoCdSamples.Notification("auth", "production", "Succeeded"), Delivery(), DateTimeOffset.UtcNow));

        Assert.Contains("Deployments:GitHub:Secret", (await ProblemAsync(github, HttpStatusCode.Forbidden)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("Deployments:ArgoCd:Secret", (await ProblemAsync(argo, HttpStatusCode.Forbidden)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reading_deployments_needs_a_token()
    {
        using var http = Anonymous();

        using var response = await http.GetAsync(new Uri("graph/deployments", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static ProposalSubmitted Proposal(string target, string environment) => new(
        Guid.NewGuid(), "sha256:" + new string('a', 64), "remediation-agent", "sam@example.com", "remediation",
        new ProposedAction("deploy", $"Deploy {target}", new Dictionary<string, string>()), [target], environment,
        new ChangeReference("sha256:" + new string('b', 64), $"git@example.com:{target}.git#1.0.0", "redeploy the previous version"),
        DateTimeOffset.UtcNow);
}
