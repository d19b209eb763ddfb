using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.EndToEnd.Tests.Support;
using ControlPlane.Testing;

namespace ControlPlane.EndToEnd.Tests.Autonomy;

/// <summary>
/// Issue 5 item 10 across the real services: identity registers an agent, orchestrator's action catalog says what
/// its proposals become, the runners say which commands they allow-list, and policy's report puts what the agent
/// CAN do next to what it is ALLOWED to do.
/// </summary>
[Collection(PlaneCollection.Name)]
public sealed class AutonomyReportTests(Plane plane)
{
    [Fact]
    public async Task A_newly_registered_agent_gets_a_report_of_what_it_can_do_and_what_it_may_do()
    {
        var agentId = $"release-bot-{Guid.NewGuid():N}"[..24];
        using (var admin = await plane.ClientAsync(Principals.Admin, "identity"))
        using (var registered = await admin.PostAsJsonAsync("agents", new
        {
            id = agentId,
            name = "Release bot",
            sponsor = Principals.RemediationSponsor,
            fleet = "remediation",
            environments = new[] { "dev", "production" },
            actionKinds = new[] { "deploy", "restart", "drop-table" },
        }))
        {
            Assert.True(registered.StatusCode == HttpStatusCode.Created, $"POST /agents: {(int)registered.StatusCode} {await registered.Content.ReadAsStringAsync()}");
        }

        using var viewer = await plane.ClientAsync(Principals.Viewer, "policy");
        var report = await Eventually.UntilAsync(async () =>
        {
            using var response = await viewer.GetAsync($"agents/{agentId}/autonomy");
            return response.StatusCode == HttpStatusCode.OK ? JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone() : default;
        }, r => r.ValueKind == JsonValueKind.Object, TimeSpan.FromSeconds(20), "the agent's autonomy report");

        JsonElement Entry(string environment, string kind) => report.GetProperty("entries").EnumerateArray()
            .Single(e => e.GetProperty("environment").GetString() == environment && e.GetProperty("actionKind").GetString() == kind);
        string[] Autonomy(JsonElement entry) => [.. entry.GetProperty("allowed").EnumerateArray().Select(v => v.GetProperty("autonomy").GetString()!)];

        Assert.Equal(6, report.GetProperty("entries").GetArrayLength());
        var prodDeploy = Entry("production", "deploy");
        Assert.True(prodDeploy.GetProperty("can").GetProperty("capable").GetBoolean(), prodDeploy.GetProperty("can").GetProperty("basis").GetString());
        Assert.Contains("run-command:deploy", prodDeploy.GetProperty("can").GetProperty("basis").GetString(), StringComparison.Ordinal);
        Assert.Equal(["unattended", "with-approval", "with-approval"], Autonomy(prodDeploy));
        Assert.Equal(["unattended", "unattended", "unattended"], Autonomy(Entry("dev", "restart")));
        var drop = Entry("production", "drop-table");
        Assert.False(drop.GetProperty("can").GetProperty("capable").GetBoolean());
        Assert.Equal("not-at-all", Autonomy(drop)[2]);
    }
}
