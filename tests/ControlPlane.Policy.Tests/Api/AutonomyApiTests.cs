using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Policy.Data;
using ControlPlane.Testing;

namespace ControlPlane.Policy.Tests.Api;

[Collection(PolicyCollection.Name)]
public sealed class AutonomyApiTests(PolicyFixture fixture)
{
    [Fact]
    public async Task The_autonomy_report_of_an_agent_separates_what_its_fleet_can_do_from_what_policy_allows()
    {
        var at = DateTimeOffset.UtcNow;
        await fixture.Bus.PublishAsync(new PrincipalChanged("ops-agent", "agent", "Ops agent", "sam@example.com", "remediation",
            ["dev", "production"], ["restart", "drop-table"], "registered", "admin@example.com", at), Guid.NewGuid());
        await fixture.Bus.PublishAsync(new FleetCapabilitiesChanged("remediation", ["run-command", "run-command:restart-service"], 2, at), Guid.NewGuid());
        await fixture.Bus.PublishAsync(new ActionCatalogPublished([new ActionRoute("restart", "remediation", "run-command", "restart-service")], "orchestrator", at), Guid.NewGuid());
        using var viewer = await fixture.ClientAsync(PolicyFixture.Viewer);

        var report = await Eventually.UntilAsync(async () =>
        {
            using var response = await viewer.GetAsync("agents/ops-agent/autonomy");
            return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonElement>() : default;
        }, r => r.ValueKind == JsonValueKind.Object && r.GetProperty("fleets").GetArrayLength() == 1 && r.GetProperty("routes").GetArrayLength() == 1,
            TimeSpan.FromSeconds(20),
            "the autonomy report with the catalog and the fleet's capabilities");

        Assert.Equal("remediation", report.GetProperty("fleet").GetString());
        Assert.Equal(2, report.GetProperty("fleets")[0].GetProperty("liveRunners").GetInt32());
        Assert.Contains("representative impact profiles", report.GetProperty("basis").GetString(), StringComparison.Ordinal);
        var entries = report.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(4, entries.Count);
        var prodRestart = entries.Single(e => e.GetProperty("environment").GetString() == "production" && e.GetProperty("actionKind").GetString() == "restart");
        Assert.True(prodRestart.GetProperty("can").GetProperty("capable").GetBoolean());
        Assert.Equal(["unattended", "with-approval", "with-approval"], prodRestart.GetProperty("allowed").EnumerateArray().Select(v => v.GetProperty("autonomy").GetString()));
        var prodDrop = entries.Single(e => e.GetProperty("environment").GetString() == "production" && e.GetProperty("actionKind").GetString() == "drop-table");
        Assert.False(prodDrop.GetProperty("can").GetProperty("capable").GetBoolean());
        Assert.Equal("not-at-all", prodDrop.GetProperty("allowed")[2].GetProperty("autonomy").GetString());
    }

    [Fact]
    public async Task Projections_ignore_an_event_older_than_what_they_hold()
    {
        await using var dataSource = fixture.Plane.Database.OpenDataSource();
        var projections = new AgentProjections(dataSource);
        var at = DateTimeOffset.UtcNow;

        await projections.ApplyAsync(new FleetCapabilitiesChanged("ordering-fleet", ["restart"], 3, at), CancellationToken.None);
        await projections.ApplyAsync(new FleetCapabilitiesChanged("ordering-fleet", [], 0, at.AddMinutes(-5)), CancellationToken.None);
        await projections.ApplyAsync(new PrincipalChanged("ordering-agent", "agent", "New name", null, "ordering-fleet", ["dev"], ["restart"], "updated", "admin", at), CancellationToken.None);
        await projections.ApplyAsync(new PrincipalChanged("ordering-agent", "agent", "Old name", null, null, [], [], "registered", "admin", at.AddMinutes(-5)), CancellationToken.None);
        await projections.ApplyAsync(new PrincipalRevoked("ordering-agent", null, "compromised", "admin", at.AddMinutes(1)), CancellationToken.None);

        var fleet = await projections.FindFleetAsync("ordering-fleet", CancellationToken.None);
        var agent = await projections.FindAgentAsync("ordering-agent", CancellationToken.None);
        Assert.Equal(3, fleet!.LiveRunners);
        Assert.Equal("New name", agent!.DisplayName);
        Assert.Equal(["restart"], agent.AllowedActionKinds);
        Assert.NotNull(agent.RevokedAt);
    }

    [Fact]
    public async Task An_unknown_agent_is_a_404_problem_and_the_report_needs_a_token()
    {
        using var viewer = await fixture.ClientAsync(PolicyFixture.Viewer);
        using var anonymous = fixture.Host.CreateHttpClient();

        using var unknown = await viewer.GetAsync("agents/nobody-agent/autonomy");
        using var noToken = await anonymous.GetAsync("agents/ops-agent/autonomy");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
    }

    [Fact]
    public async Task Humans_are_not_projected_as_agents()
    {
        await fixture.Bus.PublishAsync(new PrincipalChanged("hugo@example.com", "human", "Hugo", null, null, [], [], "registered", "admin", DateTimeOffset.UtcNow), Guid.NewGuid());
        await fixture.Bus.PublishAsync(new PrincipalChanged("marker-agent", "agent", "Marker", null, "testing", ["dev"], ["run-tests"], "registered", "admin", DateTimeOffset.UtcNow), Guid.NewGuid());
        using var viewer = await fixture.ClientAsync(PolicyFixture.Viewer);

        await Eventually.UntilAsync(async () => (await viewer.GetAsync("agents/marker-agent/autonomy")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(20), "the marker agent");
        await Eventually.UntilAsync(async () => await fixture.Plane.Vhost.CountMessagesAsync("policy-principal-changed") == 0, TimeSpan.FromSeconds(20), "both events consumed");
        using var human = await viewer.GetAsync("agents/hugo@example.com/autonomy");

        Assert.Equal(HttpStatusCode.NotFound, human.StatusCode);
    }
}
