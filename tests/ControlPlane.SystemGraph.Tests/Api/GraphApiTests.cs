using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Testing;

namespace ControlPlane.SystemGraph.Tests.Api;

[Collection(GraphCollection.Name)]
public sealed class GraphApiTests(GraphFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static object NodeBody(int tier = 2, string team = "api-tests", string[]? classes = null, bool revenue = false) =>
        new { kind = "service", name = "Test service", team, criticalityTier = tier, revenuePath = revenue, dataClasses = classes ?? ["pii"], internetExposed = false };

    [Fact]
    public async Task Requests_without_a_token_get_401()
    {
        using var http = fixture.Host.CreateHttpClient();

        foreach (var request in new[]
                 {
                     new HttpRequestMessage(HttpMethod.Get, "graph/nodes"),
                     new HttpRequestMessage(HttpMethod.Get, "graph/impact?targets=billing"),
                     new HttpRequestMessage(HttpMethod.Put, "graph/nodes/anon") { Content = JsonContent.Create(NodeBody()) },
                     new HttpRequestMessage(HttpMethod.Delete, "graph/edges?from=a&to=b"),
                 })
        {
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task A_viewer_reads_the_graph_but_gets_403_on_every_write()
    {
        using var viewer = await fixture.ClientAsync(GraphFixture.Viewer);

        using var read = await viewer.GetAsync("graph/nodes/billing");
        using var putNode = await viewer.PutAsJsonAsync("graph/nodes/viewer-node", NodeBody());
        using var deleteNode = await viewer.DeleteAsync("graph/nodes/billing");
        using var putEdge = await viewer.PutAsJsonAsync("graph/edges", new { from = "checkout", to = "search", kind = "calls" });
        using var deleteEdge = await viewer.DeleteAsync("graph/edges?from=checkout&to=billing");

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.All([putNode, deleteNode, putEdge, deleteEdge], r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
    }

    [Fact]
    public async Task A_bad_node_gets_400_problem_details_naming_each_bad_field()
    {
        using var admin = await fixture.ClientAsync(GraphFixture.Admin);

        using var response = await admin.PutAsJsonAsync("graph/nodes/Not_A_Slug", new { kind = "spaceship", criticalityTier = 9, dataClasses = new[] { "Top Secret" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["criticalityTier", "dataClasses", "id", "kind", "name", "team"], await ErrorFieldsAsync(response));
    }

    [Fact]
    public async Task A_field_of_the_wrong_type_gets_400_naming_it()
    {
        using var admin = await fixture.ClientAsync(GraphFixture.Admin);
        using var content = new StringContent("""{"kind":"service","name":"x","team":"t","criticalityTier":"high"}""", Encoding.UTF8, "application/json");

        using var response = await admin.PutAsync("graph/nodes/typed", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["criticalityTier"], await ErrorFieldsAsync(response));
    }

    [Fact]
    public async Task A_node_round_trips_and_each_real_change_is_one_new_graph_version_with_a_GraphChanged_event()
    {
        using var admin = await fixture.ClientAsync(GraphFixture.Admin);
        var before = await fixture.CurrentVersionAsync();

        using var created = await admin.PutAsJsonAsync("graph/nodes/round-trip", NodeBody(tier: 2, classes: ["pii", "pci"]));
        using var repeated = await admin.PutAsJsonAsync("graph/nodes/round-trip", NodeBody(tier: 2, classes: ["pci", "pii"]));
        using var updated = await admin.PutAsJsonAsync("graph/nodes/round-trip", NodeBody(tier: 1, classes: ["pci", "pii"]));
        var read = await admin.GetFromJsonAsync<JsonElement>("graph/nodes/round-trip");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/graph/nodes/round-trip", created.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, repeated.StatusCode);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var node = read.GetProperty("node");
        Assert.Equal(1, node.GetProperty("criticalityTier").GetInt32());
        Assert.Equal(["pci", "pii"], node.GetProperty("dataClasses").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("api-tests", node.GetProperty("team").GetString());
        Assert.Equal(before + 2, node.GetProperty("version").GetInt64());
        Assert.Equal(GraphFixture.Admin, node.GetProperty("updatedBy").GetString());
        Assert.Equal(before + 2, await fixture.CurrentVersionAsync());

        var events = await Eventually.UntilAsync(() => Task.FromResult(fixture.Bus.Received<GraphChanged>().Where(e => e.Message.NodeOrEdge == "round-trip").ToList()),
            e => e.Count >= 2, Wait, "two GraphChanged events for round-trip");
        Assert.Equal([(before + 1, "node-created"), (before + 2, "node-updated")], events.Select(e => (e.Message.Version, e.Message.Change)).Order());
        Assert.All(events, e => Assert.Equal(GraphFixture.Admin, e.Message.ChangedBy));

        var versions = await admin.GetFromJsonAsync<JsonElement>("graph/versions?limit=5");
        Assert.Contains(versions.EnumerateArray(), v => v.GetProperty("version").GetInt64() == before + 2 && v.GetProperty("change").GetString() == "node-updated"
            && v.GetProperty("changedBy").GetString() == GraphFixture.Admin);
    }

    [Fact]
    public async Task Edges_are_checked_against_the_graph_and_show_up_in_node_details_and_impact()
    {
        using var admin = await fixture.ClientAsync(GraphFixture.Admin);
        (await admin.PutAsJsonAsync("graph/nodes/edge-api", NodeBody(tier: 3))).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("graph/nodes/edge-store", NodeBody(tier: 0, classes: ["regulated"]))).EnsureSuccessStatusCode();

        using var unknown = await admin.PutAsJsonAsync("graph/edges", new { from = "edge-api", to = "edge-ghost", kind = "reads" });
        using var self = await admin.PutAsJsonAsync("graph/edges", new { from = "edge-api", to = "edge-api", kind = "reads" });
        using var badKind = await admin.PutAsJsonAsync("graph/edges", new { from = "edge-api", to = "edge-store", kind = "admires" });
        using var created = await admin.PutAsJsonAsync("graph/edges", new { from = "edge-api", to = "edge-store", kind = "reads" });
        using var again = await admin.PutAsJsonAsync("graph/edges", new { from = "edge-api", to = "edge-store", kind = "reads" });

        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal(["to"], await ErrorFieldsAsync(unknown));
        Assert.Equal(HttpStatusCode.BadRequest, self.StatusCode);
        Assert.Equal(["to"], await ErrorFieldsAsync(self));
        Assert.Equal(["kind"], await ErrorFieldsAsync(badKind));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        var store = await admin.GetFromJsonAsync<JsonElement>("graph/nodes/edge-store");
        Assert.Equal("edge-api", store.GetProperty("dependents").EnumerateArray().Single().GetProperty("from").GetString());
        var impact = await admin.GetFromJsonAsync<ImpactReport>("graph/impact?targets=edge-store,edge-nowhere", ContractJson.Options);
        Assert.Equal(["edge-api"], impact!.Dependents.Select(d => d.NodeId));
        Assert.Equal(["edge-nowhere"], impact.UnknownTargets);
        Assert.Equal(0, impact.HighestCriticality);
        Assert.Equal(await fixture.CurrentVersionAsync(), impact.GraphVersion);
    }

    [Fact]
    public async Task Deleting_a_referenced_node_is_refused_with_409_unless_cascading()
    {
        using var admin = await fixture.ClientAsync(GraphFixture.Admin);
        (await admin.PutAsJsonAsync("graph/nodes/del-a", NodeBody())).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("graph/nodes/del-b", NodeBody())).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("graph/edges", new { from = "del-a", to = "del-b", kind = "calls" })).EnsureSuccessStatusCode();

        using var refused = await admin.DeleteAsync("graph/nodes/del-b");
        var refusal = await refused.Content.ReadFromJsonAsync<JsonElement>();
        using var cascaded = await admin.DeleteAsync("graph/nodes/del-b?cascade=true");
        using var gone = await admin.GetAsync("graph/nodes/del-b");
        var survivor = await admin.GetFromJsonAsync<JsonElement>("graph/nodes/del-a");
        using var missing = await admin.DeleteAsync("graph/nodes/del-b");

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("del-a", refusal.GetProperty("edges")[0].GetProperty("from").GetString());
        Assert.Equal(HttpStatusCode.OK, cascaded.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Empty(survivor.GetProperty("dependsOn").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task An_edge_is_deleted_by_query_and_a_missing_one_is_404()
    {
        using var admin = await fixture.ClientAsync(GraphFixture.Admin);
        (await admin.PutAsJsonAsync("graph/nodes/link-a", NodeBody())).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("graph/nodes/link-b", NodeBody())).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("graph/edges", new { from = "link-a", to = "link-b", kind = "calls" })).EnsureSuccessStatusCode();

        using var deleted = await admin.DeleteAsync("graph/edges?from=link-a&to=link-b&kind=calls");
        using var again = await admin.DeleteAsync("graph/edges?from=link-a&to=link-b");
        using var invalid = await admin.DeleteAsync("graph/edges?from=link-a");

        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(["to"], await ErrorFieldsAsync(invalid));
    }

    [Fact]
    public async Task Impact_needs_targets()
    {
        using var viewer = await fixture.ClientAsync(GraphFixture.Viewer);

        using var response = await viewer.GetAsync("graph/impact");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["targets"], await ErrorFieldsAsync(response));
    }

    [Fact]
    public async Task The_seeded_demo_graph_answers_billing_impact_over_http()
    {
        using var viewer = await fixture.ClientAsync(GraphFixture.Viewer);

        var impact = await viewer.GetFromJsonAsync<ImpactReport>("graph/impact?targets=billing", ContractJson.Options);

        Assert.Equal(["billing-admin", "checkout", "reporting", "gateway", "web-app"], impact!.Dependents.Select(d => d.NodeId));
        Assert.Contains("touches revenue path via checkout → billing", impact.Reasons);
        Assert.Contains("regulated data: billing", impact.Reasons);
    }

    internal static async Task<IReadOnlyList<string>> ErrorFieldsAsync(HttpResponseMessage response)
    {
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        return [.. problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];
    }
}
