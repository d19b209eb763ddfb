using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ControlPlane.Policy.Bundles;

namespace ControlPlane.Policy.Tests.Simulation;

/// <summary>
/// Simulation over the decisions evidence recorded (dev restart allowed, staging leaf deploy allowed, production tier-0
/// deploy with 12 dependents needing approval), and activation that requires a viewed simulation.
/// </summary>
public sealed class SimulationApiTests(SimulationFixture fixture) : IClassFixture<SimulationFixture>
{
    /// <summary>
    /// The default bundle's rules (without its tests) where staging leaf changes are now denied, and the production wide
    /// blast radius starts at 13 dependents: one outcome changes, one decision keeps its outcome for other rules.
    /// </summary>
    private static string Candidate(string marker)
    {
        var rules = DefaultBundle.Yaml[..DefaultBundle.Yaml.IndexOf("\ntests:", StringComparison.Ordinal)];
        var stagingAllow = "        highest-criticality-at-least: 2\n        dependents-at-most: 4\n    outcome: allow";
        Assert.Contains(stagingAllow, rules, StringComparison.Ordinal);
        Assert.Contains("dependents-at-least: 11", rules, StringComparison.Ordinal);
        return rules.Replace("name: controlplane-default", $"name: candidate-{marker}", StringComparison.Ordinal)
            .Replace(stagingAllow, stagingAllow.Replace("outcome: allow", "outcome: deny", StringComparison.Ordinal), StringComparison.Ordinal)
            .Replace("dependents-at-least: 11", "dependents-at-least: 13", StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_simulation_reports_exactly_the_decisions_the_candidate_would_change()
    {
        using var admin = await fixture.ClientAsync(SimulationFixture.PolicyAdmin);
        var hash = await UploadAsync(admin, Candidate("report"));

        using var simulate = await admin.PostAsJsonAsync($"policies/{hash}/simulate", new { last = 50 });
        var created = await simulate.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.Created, simulate.StatusCode);
        Assert.Equal(3, created.GetProperty("replayed").GetInt32());
        Assert.Equal(1, created.GetProperty("unchanged").GetInt32());
        Assert.Equal(1, created.GetProperty("changed").GetInt32());
        Assert.Equal(1, created.GetProperty("rulesOnly").GetInt32());
        var id = created.GetProperty("id").GetString();

        var simulation = await admin.GetFromJsonAsync<JsonElement>($"policies/simulations/{id}");
        var report = simulation.GetProperty("report");
        Assert.Equal(hash, report.GetProperty("candidateHash").GetString());
        var changes = report.GetProperty("changes").EnumerateArray().ToList();
        Assert.Equal(2, changes.Count);
        var staging = changes[0];
        Assert.Equal(fixture.Recorded[1].ProposalId, staging.GetProperty("proposalId").GetGuid());
        Assert.Equal("staging", staging.GetProperty("environment").GetString());
        Assert.Equal("remediation-agent", staging.GetProperty("agentId").GetString());
        Assert.Equal("allow", staging.GetProperty("from").GetString());
        Assert.Equal("deny", staging.GetProperty("to").GetString());
        Assert.True(staging.GetProperty("outcomeChanged").GetBoolean());
        var production = changes[1];
        Assert.Equal(fixture.Recorded[2].ProposalId, production.GetProperty("proposalId").GetGuid());
        Assert.False(production.GetProperty("outcomeChanged").GetBoolean());
        Assert.Equal(["production-critical-tier-approval", "production-wide-blast-radius-approval"],
            production.GetProperty("rulesBefore").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(["production-critical-tier-approval"], production.GetProperty("rulesAfter").EnumerateArray().Select(r => r.GetString()));
        var byEnvironment = report.GetProperty("byEnvironment").EnumerateArray()
            .ToDictionary(e => e.GetProperty("key").GetString()!, e => (e.GetProperty("replayed").GetInt32(), e.GetProperty("changed").GetInt32()));
        Assert.Equal((1, 0), byEnvironment["dev"]);
        Assert.Equal((1, 1), byEnvironment["staging"]);
        Assert.Equal((1, 0), byEnvironment["production"]);
        Assert.Equal(SimulationFixture.PolicyAdmin, simulation.GetProperty("viewedBy").GetString());

        // A window and an environment filter replay only what they cover.
        using var staged = await admin.PostAsJsonAsync($"policies/{hash}/simulate",
            new { from = DateTimeOffset.UtcNow.AddHours(-1), to = DateTimeOffset.UtcNow.AddMinutes(1), environment = "staging" });
        var stagedBody = await staged.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.Created, staged.StatusCode);
        Assert.Equal(1, stagedBody.GetProperty("replayed").GetInt32());
        Assert.Equal(1, stagedBody.GetProperty("changed").GetInt32());
    }

    [Fact]
    public async Task Activation_requires_a_viewed_simulation_of_the_same_bundle_and_says_what_is_missing()
    {
        using var admin = await fixture.ClientAsync(SimulationFixture.PolicyAdmin);
        var candidate = Candidate("activation");

        using (var direct = await admin.PutAsync("policies", Yaml(candidate)))
        {
            Assert.Equal(HttpStatusCode.Conflict, direct.StatusCode);
            Assert.Contains("?activate=false", await direct.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var hash = await UploadAsync(admin, candidate);
        Assert.Contains("none was named", await RefusedAsync(admin, $"policies/{hash}/activate"), StringComparison.Ordinal);

        var other = await UploadAsync(admin, Candidate("other"));
        var otherSimulation = await SimulateAsync(admin, other);
        Assert.Contains($"simulated bundle {other}, not {hash}", await RefusedAsync(admin, $"policies/{hash}/activate?simulationId={otherSimulation}"),
            StringComparison.Ordinal);

        var simulation = await SimulateAsync(admin, hash);
        Assert.Contains("has not been viewed yet", await RefusedAsync(admin, $"policies/{hash}/activate?simulationId={simulation}"), StringComparison.Ordinal);

        using var viewer = await fixture.ClientAsync(SimulationFixture.Viewer);
        using (var forbidden = await viewer.GetAsync($"policies/simulations/{simulation}"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        var viewed = await admin.GetFromJsonAsync<JsonElement>($"policies/simulations/{simulation}");
        Assert.Equal(SimulationFixture.PolicyAdmin, viewed.GetProperty("viewedBy").GetString());

        using var activate = await admin.PostAsync($"policies/{hash}/activate?simulationId={simulation}", null);
        Assert.Equal(HttpStatusCode.OK, activate.StatusCode);
        Assert.Equal(hash, (await admin.GetFromJsonAsync<JsonElement>("policies/active")).GetProperty("hash").GetString());
    }

    [Fact]
    public async Task Bad_simulation_requests_get_a_problem_naming_the_field()
    {
        using var admin = await fixture.ClientAsync(SimulationFixture.PolicyAdmin);
        var hash = CompiledPolicy.HashOf(BundleParser.Parse(DefaultBundle.Yaml).Bundle!);

        using var both = await admin.PostAsJsonAsync($"policies/{hash}/simulate", new { last = 5, from = DateTimeOffset.UtcNow });
        using var tooMany = await admin.PostAsJsonAsync($"policies/{hash}/simulate", new { last = 10_001 });
        using var unknown = await admin.PostAsJsonAsync("policies/sha256:00/simulate", new { last = 5 });

        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        Assert.Contains("\"last\"", await both.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    private static StringContent Yaml(string yaml) => new(yaml, Encoding.UTF8, "application/yaml");

    private static async Task<string> UploadAsync(HttpClient admin, string yaml)
    {
        using var put = await admin.PutAsync("policies?activate=false", Yaml(yaml));
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        return (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("hash").GetString()!;
    }

    private static async Task<string> SimulateAsync(HttpClient admin, string hash)
    {
        using var simulate = await admin.PostAsJsonAsync($"policies/{hash}/simulate", new { last = 10 });
        Assert.Equal(HttpStatusCode.Created, simulate.StatusCode);
        return (await simulate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static async Task<string> RefusedAsync(HttpClient admin, string path)
    {
        using var response = await admin.PostAsync(path, null);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }
}
