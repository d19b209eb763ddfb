using System.Net;
using ControlPlane.Identity.Seeding;
using ControlPlane.Identity.Tests.Infrastructure;
using ControlPlane.Testing;

namespace ControlPlane.Identity.Tests.Principals;

/// <summary>Granting and revoking role bindings: admin only, validated, every change an event naming the admin.</summary>
public sealed class BindingsApiTests(IdentityAndPolicy fixture) : IClassFixture<IdentityAndPolicy>
{
    private readonly IdentityPlane _plane = fixture.Plane;

    [Fact]
    public async Task An_admin_grants_a_scoped_binding_the_next_token_carries_it_and_the_event_names_the_admin()
    {
        using var admin = await _plane.IdentityAsAsync(IdentityPlane.Admin);

        using var granted = await IdentityPlane.PostJsonAsync(admin, $"principals/{IdentityPlane.Auditor}/bindings", new { binding = "approver@environment:production" });

        Assert.Equal(HttpStatusCode.Created, granted.StatusCode);
        Assert.Contains("approver@environment:production", (await IdentityPlane.ReadJsonAsync(granted)).GetProperty("bindings").EnumerateArray().Select(b => b.GetString()));
        var token = await _plane.Identity.HumanTokenAsync(IdentityPlane.Auditor, "identity");
        var roles = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).Claims.Where(c => c.Type == "cp_roles").Select(c => c.Value);
        Assert.Contains("approver@environment:production", roles);
        var change = Assert.Single(await _plane.OutboxAsync(), m => m.Type == "RoleBindingChanged"
            && m.Body.GetProperty("principalId").GetString() == IdentityPlane.Auditor && m.Body.GetProperty("binding").GetString() == "approver@environment:production");
        Assert.Equal(IdentityPlane.Admin, change.Body.GetProperty("changedBy").GetString());
        Assert.True(change.Body.GetProperty("granted").GetBoolean());

        using var listed = await admin.GetAsync($"principals/{IdentityPlane.Auditor}/bindings");
        Assert.Contains((await IdentityPlane.ReadJsonAsync(listed)).EnumerateArray(),
            g => g.GetProperty("binding").GetString() == "approver@environment:production" && g.GetProperty("source").GetString() == "direct"
                && g.GetProperty("grantedBy").GetString() == IdentityPlane.Admin);
    }

    [Fact]
    public async Task Revoking_a_binding_is_an_event_and_kills_the_tokens_that_carried_it()
    {
        using var admin = await _plane.IdentityAsAsync(IdentityPlane.Admin);
        (await IdentityPlane.PostJsonAsync(admin, $"principals/{IdentityPlane.Nobody}/bindings", new { binding = "viewer" })).EnsureSuccessStatusCode();
        using var nobodyAtPolicy = _plane.PolicyWith(await _plane.Identity.HumanTokenAsync(IdentityPlane.Nobody, "policy"));
        Assert.Equal(HttpStatusCode.OK, (await nobodyAtPolicy.GetAsync("openapi/v1.json")).StatusCode);

        using var revoked = await admin.DeleteAsync($"principals/{IdentityPlane.Nobody}/bindings/viewer");
        using var again = await admin.DeleteAsync($"principals/{IdentityPlane.Nobody}/bindings/viewer");

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        var outbox = await _plane.OutboxAsync();
        Assert.Contains(outbox, m => m.Type == "RoleBindingChanged" && m.Body.GetProperty("principalId").GetString() == IdentityPlane.Nobody
            && !m.Body.GetProperty("granted").GetBoolean() && m.Body.GetProperty("changedBy").GetString() == IdentityPlane.Admin);
        await Eventually.UntilAsync(async () => (await nobodyAtPolicy.GetAsync("openapi/v1.json")).StatusCode == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(10), "policy refusing a token issued before its binding was revoked");
    }

    [Theory]
    [InlineData("superuser")]
    [InlineData("approver@galaxy:far")]
    [InlineData("approver@environment:")]
    [InlineData("")]
    public async Task A_binding_that_does_not_parse_is_a_validation_problem(string binding)
    {
        using var admin = await _plane.IdentityAsAsync(IdentityPlane.Admin);

        using var response = await IdentityPlane.PostJsonAsync(admin, $"principals/{IdentityPlane.Viewer}/bindings", new { binding });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await IdentityPlane.ReadJsonAsync(response)).GetProperty("errors").TryGetProperty("binding", out _));
    }

    [Theory]
    [InlineData(IdentityPlane.FleetAdmin)]
    [InlineData(IdentityPlane.Viewer)]
    [InlineData(IdentityPlane.Auditor)]
    public async Task Only_admins_change_bindings(string caller)
    {
        using var http = await _plane.IdentityAsAsync(caller);

        using var grant = await IdentityPlane.PostJsonAsync(http, $"principals/{IdentityPlane.Nobody}/bindings", new { binding = "admin" });
        using var revoke = await http.DeleteAsync($"principals/{Uri.EscapeDataString(IdentityPlane.Admin)}/bindings/admin");

        Assert.Equal(HttpStatusCode.Forbidden, grant.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, revoke.StatusCode);
    }

    [Fact]
    public async Task An_agent_is_never_given_a_role_that_approves()
    {
        using var admin = await _plane.IdentityAsAsync(IdentityPlane.Admin);

        using var approver = await IdentityPlane.PostJsonAsync(admin, $"principals/{IdentityPlane.SeededAgent}/bindings", new { binding = "approver@environment:staging" });
        using var viewer = await IdentityPlane.PostJsonAsync(admin, $"principals/{IdentityPlane.SeededAgent}/bindings", new { binding = "viewer" });

        Assert.Equal(HttpStatusCode.BadRequest, approver.StatusCode);
        Assert.Equal(HttpStatusCode.Created, viewer.StatusCode);
    }

    [Fact]
    public async Task Granting_twice_conflicts_and_unknown_principals_are_404()
    {
        using var admin = await _plane.IdentityAsAsync(IdentityPlane.Admin);

        using var twice = await IdentityPlane.PostJsonAsync(admin, $"principals/{IdentityPlane.Viewer}/bindings", new { binding = "viewer" });
        using var unknown = await IdentityPlane.PostJsonAsync(admin, "principals/ghost@example.com/bindings", new { binding = "viewer" });

        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Listing_principals_needs_principals_read()
    {
        using var auditor = await _plane.IdentityAsAsync(IdentityPlane.Auditor);
        using var viewer = await _plane.IdentityAsAsync(IdentityPlane.Viewer);

        using var humans = await auditor.GetAsync("principals?kind=human");
        using var bad = await auditor.GetAsync("principals?kind=robot");
        using var forbidden = await viewer.GetAsync("principals");

        Assert.Equal(HttpStatusCode.OK, humans.StatusCode);
        Assert.All((await IdentityPlane.ReadJsonAsync(humans)).EnumerateArray(), p => Assert.Equal("human", p.GetProperty("kind").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }
}

/// <summary>The last global admin cannot be removed: nobody could grant anything any more.</summary>
public sealed class LastAdminTests
{
    [Fact]
    public async Task The_last_admin_binding_cannot_be_revoked()
    {
        await using var plane = await IdentityPlane.StartAsync("last-admin", new IdentitySeed([new SeedHuman("solo.admin@example.com", "Solo", null, ["admin"])], []));
        using var admin = await plane.IdentityAsAsync("solo.admin@example.com");

        using var response = await admin.DeleteAsync("principals/solo.admin@example.com/bindings/admin");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
    }
}
