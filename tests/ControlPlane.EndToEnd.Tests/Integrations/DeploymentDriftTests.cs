using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.EndToEnd.Tests.Support;
using ControlPlane.Testing;
using Npgsql;

namespace ControlPlane.EndToEnd.Tests.Integrations;

/// <summary>
/// Issue 12, CI/CD: a GitHub deployment webhook into system-graph, through every real service. A deployment outside
/// the plane is drift evidence and a fact a policy rule acts on; a deployment the plane executed is not drift.
/// </summary>
[Collection(PlaneCollection.Name)]
public sealed class DeploymentDriftTests(Plane plane)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    /// <summary>A deployment_status delivery exactly as GitHub signs it: X-Hub-Signature-256 = sha256=HMAC-SHA256(secret, raw body).</summary>
    private async Task<JsonElement> DeliverAsync(string repository, string environment, string sha, HttpStatusCode expected = HttpStatusCode.Created)
    {
        var body = JsonSerializer.Serialize(new
        {
            action = "created",
            deployment_status = new { state = "success", environment, creator = new { login = "octocat" }, updated_at = DateTimeOffset.UtcNow.ToString("O") },
            deployment = new { id = 42, sha, @ref = "main", environment, creator = new { login = "octocat" } },
            repository = new { full_name = repository },
            sender = new { login = "octocat" },
        });
        var bytes = Encoding.UTF8.GetBytes(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, "graph/deployments/github") { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("X-GitHub-Event", "deployment_status");
        request.Headers.Add("X-GitHub-Delivery", Guid.NewGuid().ToString());
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Plane.GitHubWebhookSecret), bytes)));
        using var http = new HttpClient { BaseAddress = plane.Address("system-graph") };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"the webhook answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    [Fact]
    public async Task A_deployment_outside_the_plane_is_drift_evidence_and_a_rule_on_drift_detected_denies_the_next_change()
    {
        var sha = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

        var delivered = await DeliverAsync("acme/reporting", "production", sha);

        Assert.True(delivered.GetProperty("deployment").GetProperty("drift").GetBoolean());
        await using (var evidence = NpgsqlDataSource.Create(plane.Databases["evidence"]))
        {
            await Eventually.UntilAsync(async () =>
            {
                await using var count = evidence.CreateCommand("select count(*) from evidence_records where kind = 'DeploymentDriftDetected' and payload like $1");
                count.Parameters.Add(new() { Value = $"%{sha}%" });
                return (long)(await count.ExecuteScalarAsync())! == 1;
            }, Wait, "the drift recorded in evidence");
        }

        const string bundle = """
            rules:
              - id: everything-allowed
                description: Everything runs unattended in this test
                match: { actions: ["*"] }
                outcome: allow
              - id: drifted-target-denied
                description: Nothing changes a node that was deployed outside the plane until the drift is resolved
                match: { environments: [production], impact: { drift-detected: true } }
                outcome: deny
            """;
        await Proposals.WithPolicyAsync(plane, bundle, async () =>
        {
            var id = await plane.ProposeAsync(Principals.RemediationAgent,
                Proposals.Body("restart", "Restart reporting after the nightly export", ["reporting"], "production", "restart again"));

            var denied = await plane.WaitForStateAsync(id, ProposalState.Denied, Wait);

            Assert.True(denied.Impact!.DriftDetected);
            Assert.NotNull(denied.Impact.DriftSince);
            Assert.Contains("drifted-target-denied", denied.Decision!.RulesFired);
        });
    }

    [Fact]
    public async Task A_deployment_the_plane_executed_is_governed_not_drift()
    {
        var id = await plane.ProposeAsync(Principals.RemediationAgent,
            Proposals.Body("deploy", "Deploy the new synonyms build of search", ["search"], "dev", "redeploy the previous build"));
        await plane.WaitForStateAsync(id, ProposalState.Completed, Wait);
        // system-graph learns the execution from the bus; wait until it has, as a CI/CD event would arrive after the run.
        await using (var graph = NpgsqlDataSource.Create(plane.Databases["system-graph"]))
        {
            await Eventually.UntilAsync(async () =>
            {
                await using var known = graph.CreateCommand("select count(*) from governed_changes where proposal_id = $1 and executing_at is not null and cardinality(targets) = 1");
                known.Parameters.Add(new() { Value = id });
                return (long)(await known.ExecuteScalarAsync())! == 1;
            }, Wait, "system-graph to know the plane executed the proposal");
        }

        var delivered = await DeliverAsync("acme/search", "dev", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20)));

        var deployment = delivered.GetProperty("deployment");
        Assert.False(deployment.GetProperty("drift").GetBoolean());
        Assert.Equal(id, deployment.GetProperty("governedBy").GetGuid());
        using var reader = await plane.ClientAsync(Principals.Viewer, "system-graph");
        var impact = await reader.GetFromJsonAsync<ImpactReport>("graph/impact?targets=search&environment=dev", ContractJson.Options);
        Assert.False(impact!.DriftDetected);
    }
}
