using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.SystemGraph.Apis;

namespace ControlPlane.SystemGraph.Tests.Api;

/// <summary>Suites on nodes, flows on edges, GET /graph/reachability and the reachable impact, against the seeded demo graph.</summary>
[Collection(GraphCollection.Name)]
public sealed class GraphReachabilityApiTests(GraphFixture fixture)
{
    private static object Suite(string name, string? fleet = "testing", int duration = 60, string? stage = null) =>
        new { name, fleet, covers = $"what {name} covers", durationSeconds = duration, stage };

    private static object Node(params object[] suites) =>
        new { kind = "service", name = "Suite test service", team = "api-tests", criticalityTier = 2, dataClasses = new[] { "pii" }, suites };

    [Fact]
    public async Task A_node_declares_suites_that_are_stored_versioned_and_read_back()
    {
        using var admin = await fixture.ClientAsync(GraphFixture.Admin);

        using var created = await admin.PutAsJsonAsync("graph/nodes/suite-node", Node(Suite("suite-node-contract"), Suite("suite-node-leak", stage: "verify")));
        var version = await fixture.CurrentVersionAsync();
        using var same = await admin.PutAsJsonAsync("graph/nodes/suite-node", Node(Suite("suite-node-leak", stage: "verify"), Suite("suite-node-contract")));
        var unchanged = await fixture.CurrentVersionAsync();
        using var changed = await admin.PutAsJsonAsync("graph/nodes/suite-node", Node(Suite("suite-node-contract", duration: 90)));
        var node = (await admin.GetFromJsonAsync<JsonElement>("graph/nodes/suite-node")).GetProperty("node");

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.OK), (created.StatusCode, same.StatusCode, changed.StatusCode));
        Assert.Equal(version, unchanged); // the same suites in another order are no change
        Assert.Equal(version + 1, await fixture.CurrentVersionAsync());
        var suite = Assert.Single(node.GetProperty("suites").EnumerateArray());
        Assert.Equal(("suite-node-contract", "testing", 90), (suite.GetProperty("name").GetString(), suite.GetProperty("fleet").GetString(), suite.GetProperty("durationSeconds").GetInt32()));
    }

    [Fact]
    public async Task A_bad_suite_gets_400_naming_the_suite_and_field()
    {
        using var admin = await fixture.ClientAsync(GraphFixture.Admin);

        using var response = await admin.PutAsJsonAsync("graph/nodes/bad-suite-node", Node(Suite("ok"), Suite("Bad Name", fleet: null, duration: 0, stage: "someday")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["suites[1].durationSeconds", "suites[1].fleet", "suites[1].name", "suites[1].stage"], await GraphApiTests.ErrorFieldsAsync(response));
    }

    [Fact]
    public async Task An_edge_carries_a_flow_derived_from_its_kind_or_given_and_a_changed_flow_is_a_new_version()
    {
        using var admin = await fixture.ClientAsync(GraphFixture.Admin);
        foreach (var id in new[] { "flow-a", "flow-b" })
        {
            using var put = await admin.PutAsJsonAsync($"graph/nodes/{id}", Node());
        }

        using var derived = await admin.PutAsJsonAsync("graph/edges", new { from = "flow-a", to = "flow-b", kind = "writes" });
        var version = await fixture.CurrentVersionAsync();
        using var overridden = await admin.PutAsJsonAsync("graph/edges", new { from = "flow-a", to = "flow-b", kind = "writes", flow = "async" });
        using var bad = await admin.PutAsJsonAsync("graph/edges", new { from = "flow-a", to = "flow-b", kind = "writes", flow = "teleport" });
        var edges = (await admin.GetFromJsonAsync<JsonElement>("graph/edges")).GetProperty("edges").EnumerateArray()
            .Where(e => e.GetProperty("from").GetString() == "flow-a").ToList();

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.BadRequest), (derived.StatusCode, overridden.StatusCode, bad.StatusCode));
        Assert.Equal(["flow"], await GraphApiTests.ErrorFieldsAsync(bad));
        Assert.Equal(version + 1, await fixture.CurrentVersionAsync());
        Assert.Equal("async", Assert.Single(edges).GetProperty("flow").GetString());
    }

    [Fact]
    public async Task Reachability_lists_the_entries_and_each_reachable_node_with_its_shortest_path()
    {
        using var viewer = await fixture.ClientAsync(GraphFixture.Viewer);
        using var anonymous = fixture.Host.CreateHttpClient();

        var view = await viewer.GetFromJsonAsync<ReachabilityView>("graph/reachability", ContractJson.Options);
        using var refused = await anonymous.GetAsync("graph/reachability");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("gateway", view!.Entries);
        Assert.Equal(["gateway", "checkout", "billing"], view.Reachable.Single(r => r.NodeId == "billing").Path);
        Assert.Contains("ledger-reconciliation", view.Unreachable);
        Assert.Contains("billing-admin", view.Unreachable);
        Assert.Equal(await fixture.CurrentVersionAsync(), view.Version);
    }

    [Fact]
    public async Task Billing_impact_over_http_carries_the_target_node_with_its_reachable_path_and_suites()
    {
        using var viewer = await fixture.ClientAsync(GraphFixture.Viewer);

        var impact = await viewer.GetFromJsonAsync<ImpactReport>("graph/impact?targets=billing", ContractJson.Options);

        var billing = Assert.Single(impact!.TargetNodes!);
        Assert.Equal(["gateway", "checkout", "billing"], billing.ReachablePath);
        Assert.Contains(billing.Suites!, s => s is { Name: "billing-leak-check", Stage: "verify" });
        Assert.Equal(["gateway", "checkout"], impact.Dependents.Single(d => d.NodeId == "checkout").ReachablePath);
    }
}
