using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using ControlPlane.Testing;

namespace ControlPlane.Policy.Tests.Api;

[Collection(PolicyCollection.Name)]
public sealed class PolicyApiTests(PolicyFixture fixture)
{
    private const string Strict = """
        name: strict
        rules:
          - id: everything-needs-two
            description: Two approvers for anything
            outcome: require-approval
            approval: { count: 2, roles: [approver], expiry: 2h }
        """;

    private static StringContent Yaml(string yaml, string mediaType = "application/yaml") => new(yaml, Encoding.UTF8, mediaType);

    [Fact]
    public async Task The_default_bundle_is_stored_as_version_1_and_activated_at_the_first_start()
    {
        using var viewer = await fixture.ClientAsync(PolicyFixture.Viewer);
        var hash = CompiledPolicy.HashOf(BundleParser.Parse(DefaultBundle.Yaml).Bundle!);

        var active = await viewer.GetFromJsonAsync<JsonElement>("policies/active");
        var stored = await viewer.GetFromJsonAsync<JsonElement>($"policies/{hash}");

        // Another test of the collection activates a bundle and rolls back to this one, so only the hash is stable here.
        Assert.Equal(hash, active.GetProperty("hash").GetString());
        Assert.Equal("1", stored.GetProperty("version").GetString());
        Assert.Equal(DefaultBundle.ActivatedBy, stored.GetProperty("uploadedBy").GetString());
        Assert.Contains("deny-destructive-regulated-without-rollback", stored.GetProperty("yaml").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, await fixture.Plane.CountAsync(
            $"select count(*) from (select * from policy_activations order by id limit 1) first where bundle_hash = '{hash}' and activated_by = '{DefaultBundle.ActivatedBy}'"));
    }

    [Fact]
    public async Task Requests_without_a_token_get_401_and_a_viewer_gets_403_on_writes()
    {
        using var anonymous = fixture.Host.CreateHttpClient();
        using var viewer = await fixture.ClientAsync(PolicyFixture.Viewer);

        using var noToken = await anonymous.GetAsync("policies/active");
        using var noTokenEvaluate = await anonymous.PostAsJsonAsync("policies/evaluate", new { action = "restart", environment = "dev" });
        using var viewerPut = await viewer.PutAsync("policies", Yaml(Strict));
        using var viewerActivate = await viewer.PostAsync("policies/sha256:00/activate", null);
        using var viewerEvaluate = await viewer.PostAsJsonAsync("policies/evaluate", new { action = "restart", environment = "dev" });

        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noTokenEvaluate.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, viewerPut.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, viewerActivate.StatusCode);
        Assert.Equal(HttpStatusCode.OK, viewerEvaluate.StatusCode);
    }

    [Fact]
    public async Task An_invalid_bundle_gets_400_with_every_error_and_changes_nothing()
    {
        using var admin = await fixture.ClientAsync(PolicyFixture.PolicyAdmin);
        var before = await admin.GetFromJsonAsync<JsonElement>("policies/active");

        using var response = await admin.PutAsync("policies", Yaml("""
            rules:
              - id: one
                outcome: perhaps
              - id: two
                match: { environmentz: [dev] }
                outcome: allow
            """));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        using var broken = await admin.PutAsync("policies", Yaml("rules: [ { id: x, outcome: allow }", "text/yaml"));
        var after = await admin.GetFromJsonAsync<JsonElement>("policies/active");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = problem.GetProperty("errors");
        Assert.Equal(["bundle.rules[0].outcome", "bundle.rules[1].match.environmentz"], errors.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.StartsWith("line 3, column 14 (rule 'one'): outcome 'perhaps'", errors.GetProperty("bundle.rules[0].outcome")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("(rule 'two'): unknown key 'environmentz'", errors.GetProperty("bundle.rules[1].match.environmentz")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
        Assert.Equal(before.GetProperty("hash").GetString(), after.GetProperty("hash").GetString());
    }

    [Fact]
    public async Task A_bundle_must_be_sent_as_yaml()
    {
        using var admin = await fixture.ClientAsync(PolicyFixture.PolicyAdmin);

        using var response = await admin.PutAsync("policies", new StringContent(Strict, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task A_bundle_round_trips_is_content_hashed_versioned_and_activation_is_announced()
    {
        using var admin = await fixture.ClientAsync(PolicyFixture.PolicyAdmin);
        var original = await admin.GetFromJsonAsync<JsonElement>("policies/active");
        var originalHash = original.GetProperty("hash").GetString()!;
        try
        {
            using var created = await admin.PutAsync("policies", Yaml(Strict));
            var body = await created.Content.ReadFromJsonAsync<JsonElement>();
            var hash = body.GetProperty("hash").GetString()!;
            using var reformatted = await admin.PutAsync("policies", Yaml("# same rules, other layout\n" + Strict.Replace("{ count: 2, roles: [approver], expiry: 2h }", "\n      count: 2\n      expiry: 120m\n      roles:\n        - approver", StringComparison.Ordinal)));
            var again = await reformatted.Content.ReadFromJsonAsync<JsonElement>();
            var stored = await admin.GetFromJsonAsync<JsonElement>($"policies/{hash}");
            var active = await admin.GetFromJsonAsync<JsonElement>("policies/active");

            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal($"/policies/{hash}", created.Headers.Location?.OriginalString);
            Assert.StartsWith("sha256:", hash, StringComparison.Ordinal);
            Assert.True(long.Parse(body.GetProperty("version").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > 1);
            Assert.Equal(HttpStatusCode.OK, reformatted.StatusCode);
            Assert.Equal(hash, again.GetProperty("hash").GetString());
            Assert.False(again.GetProperty("activated").GetBoolean());
            Assert.Equal(Strict, stored.GetProperty("yaml").GetString());
            Assert.Equal(PolicyFixture.PolicyAdmin, stored.GetProperty("uploadedBy").GetString());
            Assert.Equal(hash, active.GetProperty("hash").GetString());
            Assert.Equal(PolicyFixture.PolicyAdmin, active.GetProperty("activatedBy").GetString());

            var announced = await Eventually.UntilAsync(() => Task.FromResult(fixture.Bus.Received<PolicyBundleActivated>().Where(a => a.Message.BundleHash == hash).ToList()),
                a => a.Count >= 1, TimeSpan.FromSeconds(20), "PolicyBundleActivated for the strict bundle");
            Assert.Equal(PolicyFixture.PolicyAdmin, announced[0].Message.ActivatedBy);
            Assert.Equal(body.GetProperty("version").GetString(), announced[0].Message.Version);

            var evaluated = await admin.PostAsJsonAsync("policies/evaluate", new { action = "restart", environment = "dev" });
            var decision = (await evaluated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("decision");
            Assert.Equal("require-approval", decision.GetProperty("outcome").GetString());
            Assert.Equal(hash, decision.GetProperty("bundleHash").GetString());
        }
        finally
        {
            // Other tests of the collection expect the default bundle: roll back to it (also what the endpoint is for).
            using var rollback = await admin.PostAsync($"policies/{Uri.EscapeDataString(originalHash)}/activate", null);
            Assert.Equal(HttpStatusCode.OK, rollback.StatusCode);
        }

        var restored = await admin.GetFromJsonAsync<JsonElement>("policies/active");
        Assert.Equal(originalHash, restored.GetProperty("hash").GetString());
        var listed = await admin.GetFromJsonAsync<JsonElement>("policies");
        Assert.True(listed.GetArrayLength() >= 2);
        Assert.Single(listed.EnumerateArray(), b => b.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task An_unknown_bundle_hash_is_404()
    {
        using var admin = await fixture.ClientAsync(PolicyFixture.PolicyAdmin);

        using var read = await admin.GetAsync("policies/sha256:0000");
        using var activate = await admin.PostAsync("policies/sha256:0000/activate", null);

        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, activate.StatusCode);
    }

    [Fact]
    public async Task Evaluate_dry_runs_fact_fields_against_the_active_bundle_and_explains_every_rule()
    {
        using var viewer = await fixture.ClientAsync(PolicyFixture.Viewer);

        using var response = await viewer.PostAsJsonAsync("policies/evaluate", new
        {
            action = "purge",
            environment = "production",
            agentId = "remediation-agent",
            rollbackPlanPresent = false,
            highestCriticality = 0,
            revenuePath = true,
            dataClasses = new[] { "regulated" },
            dependents = 4,
        });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var decision = body.GetProperty("decision");
        Assert.Equal("deny", decision.GetProperty("outcome").GetString());
        Assert.Contains("deny-destructive-regulated-without-rollback", decision.GetProperty("rulesFired").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("active", body.GetProperty("bundle").GetProperty("source").GetString());
        var rules = body.GetProperty("rules").EnumerateArray().ToList();
        Assert.Equal(12, rules.Count);
        var dev = rules.Single(r => r.GetProperty("ruleId").GetString() == "dev-autonomous");
        Assert.False(dev.GetProperty("matched").GetBoolean());
        Assert.Equal("environment 'production' is not in [dev, development]", dev.GetProperty("conditions")[0].GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Evaluate_with_a_reachable_impact_report_dry_runs_the_validation_plan_and_the_reachability_conditions()
    {
        using var viewer = await fixture.ClientAsync(PolicyFixture.Viewer);

        using var reachable = await viewer.PostAsJsonAsync("policies/evaluate",
            new { action = "deploy", environment = "production", impact = Validation.DemoImpacts.Job(reachable: true) }, ContractJson.Options);
        using var unreachable = await viewer.PostAsJsonAsync("policies/evaluate",
            new { action = "deploy", environment = "production", impact = Validation.DemoImpacts.Job(reachable: false) }, ContractJson.Options);
        var onPath = (await reachable.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("decision");
        var offPath = (await unreachable.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("decision");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (reachable.StatusCode, unreachable.StatusCode));
        Assert.Equal(("require-approval", "allow"), (onPath.GetProperty("outcome").GetString(), offPath.GetProperty("outcome").GetString()));
        var suite = Assert.Single(offPath.GetProperty("plan").GetProperty("suites").EnumerateArray());
        Assert.Equal("ledger-reconciliation-dry-run", suite.GetProperty("suite").GetString());
        Assert.Equal("target ledger-reconciliation declares it", suite.GetProperty("reasons")[0].GetString());
    }

    [Fact]
    public async Task Evaluate_accepts_an_impact_report_and_an_inline_bundle()
    {
        using var viewer = await fixture.ClientAsync(PolicyFixture.Viewer);
        var impact = new ImpactReport(9, ["billing"], [], 1, ["regulated"], true, false, ["payments"], [], ["r"], DateTimeOffset.UtcNow);

        using var response = await viewer.PostAsJsonAsync("policies/evaluate", new { action = "deploy", environment = "production", impact, bundle = Strict }, ContractJson.Options);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("inline", body.GetProperty("bundle").GetProperty("source").GetString());
        Assert.Equal("inline", body.GetProperty("decision").GetProperty("bundleVersion").GetString());
        Assert.Equal(2, body.GetProperty("decision").GetProperty("approval").GetProperty("count").GetInt32());
        Assert.Equal(1, body.GetProperty("facts").GetProperty("highestCriticality").GetInt32());
    }

    [Fact]
    public async Task Evaluate_names_each_bad_field()
    {
        using var viewer = await fixture.ClientAsync(PolicyFixture.Viewer);
        var impact = new ImpactReport(9, ["billing"], [], 1, [], false, false, [], [], [], DateTimeOffset.UtcNow);

        using var missing = await viewer.PostAsJsonAsync("policies/evaluate", new { highestCriticality = 5, impact, bundle = "rules: [{ id: r, outcome: nope }]" }, ContractJson.Options);
        using var typed = await viewer.PostAsync("policies/evaluate", new StringContent("""{"action":"a","environment":"dev","dependents":"many"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var fields = (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(["action", "bundle.rules[0].outcome", "environment", "highestCriticality", "impact"], fields.Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, typed.StatusCode);
        Assert.Equal("dependents", (await typed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateObject().Single().Name);
    }
}
