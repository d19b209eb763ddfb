using System.Net;
using System.Text.Json;
using ControlPlane.Identity.Tests.Infrastructure;
using ControlPlane.Testing;

namespace ControlPlane.Identity.Tests.Agents;

/// <summary>Agents as workload identities against the real identity service, PostgreSQL, RabbitMQ and Redis.</summary>
public sealed class AgentsApiTests(IdentityAndPolicy fixture) : IClassFixture<IdentityAndPolicy>
{
    private readonly IdentityPlane _plane = fixture.Plane;

    private static object Registration(string id, string sponsor = IdentityPlane.Sponsor) => new
    {
        id,
        name = "Agent " + id,
        sponsor,
        fleet = "remediation",
        environments = new[] { "staging", "production" },
        actionKinds = new[] { "restart", "rollback" },
    };

    [Fact]
    public async Task A_fleet_admin_registers_an_agent_and_the_change_names_them()
    {
        using var fleetAdmin = await _plane.IdentityAsAsync(IdentityPlane.FleetAdmin);

        using var created = await IdentityPlane.PostJsonAsync(fleetAdmin, "agents", Registration("deploy-bot"));
        var body = await IdentityPlane.ReadJsonAsync(created);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("deploy-bot", body.GetProperty("agent").GetProperty("id").GetString());
        Assert.Equal(["proposer"], body.GetProperty("agent").GetProperty("bindings").EnumerateArray().Select(b => b.GetString()));

        var outbox = await _plane.OutboxAsync();
        var registered = Assert.Single(outbox, m => m.Type == "PrincipalChanged" && m.Body.GetProperty("principalId").GetString() == "deploy-bot");
        Assert.Equal("registered", registered.Body.GetProperty("change").GetString());
        Assert.Equal(IdentityPlane.FleetAdmin, registered.Body.GetProperty("changedBy").GetString());
        Assert.Equal(["staging", "production"], registered.Body.GetProperty("allowedEnvironments").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["restart", "rollback"], registered.Body.GetProperty("allowedActionKinds").EnumerateArray().Select(e => e.GetString()));
        var binding = Assert.Single(outbox, m => m.Type == "RoleBindingChanged" && m.Body.GetProperty("principalId").GetString() == "deploy-bot");
        Assert.Equal(IdentityPlane.FleetAdmin, binding.Body.GetProperty("changedBy").GetString());
        Assert.True(binding.Body.GetProperty("granted").GetBoolean());
    }

    [Fact]
    public async Task Registration_is_refused_without_agents_write_and_reading_needs_principals_read()
    {
        using var viewer = await _plane.IdentityAsAsync(IdentityPlane.Viewer);
        using var auditor = await _plane.IdentityAsAsync(IdentityPlane.Auditor);
        using var anonymous = _plane.IdentityAnonymous();

        using var byViewer = await IdentityPlane.PostJsonAsync(viewer, "agents", Registration("viewer-made"));
        using var byNobody = await IdentityPlane.PostJsonAsync(anonymous, "agents", Registration("anon-made"));
        using var listByViewer = await viewer.GetAsync("agents");
        using var listByAuditor = await auditor.GetAsync("agents");

        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, byNobody.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, listByViewer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, listByAuditor.StatusCode);
        Assert.Contains((await IdentityPlane.ReadJsonAsync(listByAuditor)).EnumerateArray(), a => a.GetProperty("id").GetString() == IdentityPlane.SeededAgent);
    }

    [Theory]
    [InlineData("nobody-known@example.com")]
    [InlineData(IdentityPlane.SeededAgent)]
    public async Task The_sponsor_must_be_an_existing_active_human(string sponsor)
    {
        using var fleetAdmin = await _plane.IdentityAsAsync(IdentityPlane.FleetAdmin);

        using var response = await IdentityPlane.PostJsonAsync(fleetAdmin, "agents", Registration("sponsorless-" + sponsor.Length, sponsor));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("sponsor", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_input_gets_a_validation_problem_naming_each_field_and_a_duplicate_id_a_conflict()
    {
        using var fleetAdmin = await _plane.IdentityAsAsync(IdentityPlane.FleetAdmin);

        using var bad = await IdentityPlane.PostJsonAsync(fleetAdmin, "agents", new { id = "Bad Id", sponsor = IdentityPlane.Sponsor, bindings = new[] { "admin" } });
        using var duplicate = await IdentityPlane.PostJsonAsync(fleetAdmin, "agents", Registration(IdentityPlane.SeededAgent));
        var problem = await IdentityPlane.ReadJsonAsync(bad);

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        foreach (var field in new[] { "id", "name", "fleet", "environments", "actionKinds", "bindings" })
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), field);
        }

        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
    }

    [Fact]
    public async Task A_secret_is_shown_once_stored_hashed_works_for_tokens_and_stops_working_when_revoked()
    {
        using var fleetAdmin = await _plane.IdentityAsAsync(IdentityPlane.FleetAdmin);
        (await IdentityPlane.PostJsonAsync(fleetAdmin, "agents", Registration("secret-bot"))).EnsureSuccessStatusCode();

        using var issued = await fleetAdmin.PostAsync("agents/secret-bot/secrets", null);
        var secret = await IdentityPlane.ReadJsonAsync(issued);
        var credentialId = secret.GetProperty("credentialId").GetString()!;
        var plain = secret.GetProperty("secret").GetString()!;
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        Assert.Equal("no-store", issued.Headers.CacheControl?.ToString());

        using var read = await fleetAdmin.GetAsync("agents/secret-bot");
        var readText = await read.Content.ReadAsStringAsync();
        Assert.Contains(credentialId, readText, StringComparison.Ordinal);
        Assert.DoesNotContain(plain, readText, StringComparison.Ordinal);

        var token = await _plane.Identity.AgentTokenAsync("secret-bot", "policy", plain);
        using (var policy = _plane.PolicyWith(token))
        {
            Assert.Equal(HttpStatusCode.OK, (await policy.GetAsync("openapi/v1.json")).StatusCode);
        }

        using var revoked = await fleetAdmin.DeleteAsync($"agents/secret-bot/secrets/{credentialId}");
        using var again = await fleetAdmin.DeleteAsync($"agents/secret-bot/secrets/{credentialId}");
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => _plane.Identity.AgentTokenAsync("secret-bot", "policy", plain));
        Assert.Contains("invalid_client", refused.Message, StringComparison.Ordinal);
        var outbox = await _plane.OutboxAsync();
        var revocation = Assert.Single(outbox, m => m.Type == "PrincipalRevoked" && m.Body.GetProperty("principalId").GetString() == "secret-bot");
        Assert.Equal(credentialId, revocation.Body.GetProperty("credentialId").GetString());
        Assert.Equal(IdentityPlane.FleetAdmin, revocation.Body.GetProperty("revokedBy").GetString());
        Assert.Contains(outbox, m => m.Type == "PrincipalChanged" && m.Body.GetProperty("change").GetString() == $"secret-added:{credentialId}");
    }

    [Fact]
    public async Task Revoking_an_agent_refuses_new_tokens_at_once_and_its_live_token_at_another_service_within_seconds()
    {
        using var fleetAdmin = await _plane.IdentityAsAsync(IdentityPlane.FleetAdmin);
        (await IdentityPlane.PostJsonAsync(fleetAdmin, "agents", Registration("doomed-bot"))).EnsureSuccessStatusCode();
        var plain = (await IdentityPlane.ReadJsonAsync(await fleetAdmin.PostAsync("agents/doomed-bot/secrets", null))).GetProperty("secret").GetString()!;
        using var atPolicy = _plane.PolicyWith(await _plane.Identity.AgentTokenAsync("doomed-bot", "policy", plain));
        using var atIdentity = _plane.Identity.Host.CreateHttpClient(await _plane.Identity.AgentTokenAsync("doomed-bot", "identity", plain));
        Assert.Equal(HttpStatusCode.OK, (await atPolicy.GetAsync("openapi/v1.json")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await atIdentity.GetAsync("principals/me")).StatusCode);

        using var revoke = await IdentityPlane.PostJsonAsync(fleetAdmin, "agents/doomed-bot/revoke", new { reason = "compromised host" });
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);

        // identity itself: no new token, and the live token refused at once.
        await Assert.ThrowsAsync<InvalidOperationException>(() => _plane.Identity.AgentTokenAsync("doomed-bot", "policy", plain));
        Assert.Equal(HttpStatusCode.Unauthorized, (await atIdentity.GetAsync("principals/me")).StatusCode);
        // policy learns it from the bus (outbox → RabbitMQ → RevocationList).
        await Eventually.UntilAsync(async () => (await atPolicy.GetAsync("openapi/v1.json")).StatusCode == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(10), "policy refusing the revoked agent's token");

        var revocation = Assert.Single(await _plane.OutboxAsync(), m => m.Type == "PrincipalRevoked" && m.Body.GetProperty("principalId").GetString() == "doomed-bot");
        Assert.Equal("compromised host", revocation.Body.GetProperty("reason").GetString());
        using var again = await IdentityPlane.PostJsonAsync(fleetAdmin, "agents/doomed-bot/revoke", new { });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        using var secretForRevoked = await fleetAdmin.PostAsync("agents/doomed-bot/secrets", null);
        Assert.Equal(HttpStatusCode.Conflict, secretForRevoked.StatusCode);
        using var read = await fleetAdmin.GetAsync("agents/doomed-bot");
        var agent = await IdentityPlane.ReadJsonAsync(read);
        Assert.True(agent.GetProperty("credentials").EnumerateArray().All(c => c.TryGetProperty("revokedAt", out var at) && at.ValueKind == JsonValueKind.String));
    }

    [Fact]
    public async Task Unknown_agents_get_404()
    {
        using var fleetAdmin = await _plane.IdentityAsAsync(IdentityPlane.FleetAdmin);

        Assert.Equal(HttpStatusCode.NotFound, (await fleetAdmin.GetAsync("agents/no-such-agent")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fleetAdmin.PostAsync("agents/no-such-agent/secrets", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fleetAdmin.GetAsync($"agents/{Uri.EscapeDataString(IdentityPlane.Viewer)}")).StatusCode);
    }
}
