using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ControlPlane.Policy.Bundles;

namespace ControlPlane.Policy.Tests.Api;

/// <summary>A bundle's own tests over HTTP: reported on upload, and a failing one blocks activation (PUT and POST .../activate).</summary>
[Collection(PolicyCollection.Name)]
public sealed class BundleTestsApiTests(PolicyFixture fixture)
{
    // The test expects production to need approval, but the only rule allows everything: the test fails.
    private const string Failing = """
        name: careless
        rules:
          - id: allow-everything
            outcome: allow
        tests:
          - name: production-needs-approval
            facts: { action: deploy, environment: production }
            expect: { outcome: require-approval, rules: [allow-everything] }
          - name: dev-is-allowed
            facts: { action: deploy, environment: dev }
            expect: { outcome: allow }
        """;

    [Fact]
    public async Task A_bundle_whose_tests_fail_is_not_activated_and_the_problem_lists_each_failing_case()
    {
        using var admin = await fixture.ClientAsync(PolicyFixture.PolicyAdmin);
        var activeBefore = (await admin.GetFromJsonAsync<JsonElement>("policies/active")).GetProperty("hash").GetString();
        var hash = CompiledPolicy.HashOf(BundleParser.Parse(Failing).Bundle!);

        using var put = await admin.PutAsync("policies", new StringContent(Failing, Encoding.UTF8, "application/yaml"));
        var refused = await put.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.UnprocessableEntity, put.StatusCode);
        Assert.Equal("application/problem+json", put.Content.Headers.ContentType?.MediaType);
        Assert.Equal("The bundle's tests fail", refused.GetProperty("title").GetString());
        Assert.Equal(hash, refused.GetProperty("bundleHash").GetString());
        var failure = Assert.Single(refused.GetProperty("failures").EnumerateArray());
        Assert.Equal("production-needs-approval", failure.GetProperty("name").GetString());
        Assert.Equal("require-approval", failure.GetProperty("expected").GetProperty("outcome").GetString());
        Assert.Equal("allow", failure.GetProperty("actual").GetProperty("outcome").GetString());
        Assert.Equal(["allow-everything"], failure.GetProperty("actual").GetProperty("rules").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("expected require-approval, got allow",
            refused.GetProperty("errors").GetProperty("tests.production-needs-approval")[0].GetString());
        using (var notStored = await admin.GetAsync($"policies/{hash}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, notStored.StatusCode);
        }

        // Stored without activation it reports its results; activating it later is refused the same way.
        using var stored = await admin.PutAsync("policies?activate=false", new StringContent(Failing, Encoding.UTF8, "application/yaml"));
        var body = await stored.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(stored.IsSuccessStatusCode);
        Assert.False(body.GetProperty("activated").GetBoolean());
        Assert.Equal(2, body.GetProperty("tests").GetProperty("total").GetInt32());
        Assert.Equal(1, body.GetProperty("tests").GetProperty("failed").GetInt32());

        using var activate = await admin.PostAsync($"policies/{hash}/activate", null);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, activate.StatusCode);
        Assert.Equal(activeBefore, (await admin.GetFromJsonAsync<JsonElement>("policies/active")).GetProperty("hash").GetString());
    }
}
