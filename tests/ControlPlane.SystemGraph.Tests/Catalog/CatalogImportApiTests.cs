using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.SystemGraph.Catalog;
using ControlPlane.SystemGraph.Graph;
using ControlPlane.Testing;
using static ControlPlane.SystemGraph.Tests.Catalog.CatalogSamples;

namespace ControlPlane.SystemGraph.Tests.Catalog;

[Collection(CatalogImportCollection.Name)]
public sealed class CatalogImportApiTests(CatalogImportFixture fixture)
{
    private const string Import = "graph/imports/backstage";

    private static object Body(IEnumerable<CatalogFile> files) => new { files = files.Select(f => new { path = f.Path, content = f.Content }) };

    private static int Count(JsonElement diff, string change, string what) => diff.GetProperty(change).GetProperty(what).GetArrayLength();

    [Fact]
    public async Task The_demo_catalog_loads_the_seed_graph_in_one_version_and_later_imports_apply_only_their_diff()
    {
        using var admin = await fixture.ClientAsync(GraphFixture.Admin);
        var demo = DemoFiles();

        // 1. An empty graph gets the whole catalog as ONE new version, equal to the seed graph.
        using var first = await admin.PostAsJsonAsync(Import, Body(demo));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var imported = await first.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(imported.GetProperty("applied").GetBoolean());
        Assert.Equal(1, imported.GetProperty("version").GetInt64());
        Assert.Equal((14, 18), (Count(imported.GetProperty("diff"), "added", "nodes"), Count(imported.GetProperty("diff"), "added", "edges")));

        var (seedNodes, seedEdges) = SeedGraph();
        var nodes = (await admin.GetFromJsonAsync<JsonElement>("graph/nodes")).GetProperty("nodes").Deserialize<List<GraphNode>>(ContractJson.Options)!;
        var edges = (await admin.GetFromJsonAsync<JsonElement>("graph/edges")).GetProperty("edges").Deserialize<List<GraphEdge>>(ContractJson.Options)!;
        Assert.Equal(seedNodes.Count, nodes.Count);
        Assert.All(seedNodes.Zip(nodes.OrderBy(n => n.Id, StringComparer.Ordinal)), p => Assert.True(p.First.SameAttributesAs(p.Second), $"{p.First} vs {p.Second}"));
        Assert.Equal(seedEdges.Select(e => e.ToString()), edges.Select(e => e.ToString()).Order(StringComparer.Ordinal));
        var versions = await admin.GetFromJsonAsync<JsonElement>("graph/versions");
        var only = Assert.Single(versions.EnumerateArray());
        Assert.Equal(("catalog-imported", "catalog:backstage", GraphFixture.Admin),
            (only.GetProperty("change").GetString(), only.GetProperty("subject").GetString(), only.GetProperty("changedBy").GetString()));
        Assert.Equal(14, only.GetProperty("detail").GetProperty("added").GetProperty("nodes").GetArrayLength());
        Assert.Contains("billing->ledger-db:writes", only.GetProperty("detail").GetProperty("added").GetProperty("edges").EnumerateArray().Select(e => e.GetString()));
        var changed = await Eventually.UntilAsync(() => Task.FromResult(fixture.Plane.Bus.Received<GraphChanged>().ToList()), e => e.Count >= 1,
            TimeSpan.FromSeconds(20), "GraphChanged for the import");
        Assert.Equal((1L, "catalog-imported"), (Assert.Single(changed).Message.Version, changed[0].Message.Change));

        // 2. The same catalog again changes nothing: no version.
        using var again = await admin.PostAsJsonAsync(Import, Body(demo));
        var noop = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(noop.GetProperty("applied").GetBoolean());
        Assert.Equal(1, noop.GetProperty("version").GetInt64());
        Assert.All(new[] { "added", "changed", "removed" }, c => Assert.Equal(0, Count(noop.GetProperty("diff"), c, "nodes") + Count(noop.GetProperty("diff"), c, "edges")));

        // 3. A hand-written node, then a catalog without reporting and with billing holding pii too: the dry run says so and writes nothing.
        using var manual = await admin.PutAsJsonAsync("graph/nodes/hand-made",
            new { kind = "service", name = "Hand made", team = "payments", criticalityTier = 2, dataClasses = new[] { "public" } });
        Assert.Equal(HttpStatusCode.Created, manual.StatusCode);
        var edited = demo.Where(f => !f.Path.StartsWith("analytics/", StringComparison.Ordinal))
            .Select(f => f with { Content = f.Content.Replace("controlplane.io/data-classes: regulated, pci", "controlplane.io/data-classes: regulated, pci, pii", StringComparison.Ordinal) })
            .ToList();
        using var dry = await admin.PostAsJsonAsync($"{Import}?dryRun=true", Body(edited));
        var plan = await dry.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, dry.StatusCode);
        Assert.False(plan.GetProperty("applied").GetBoolean());
        AssertTheEdit(plan.GetProperty("diff"));
        Assert.Equal(2, plan.GetProperty("version").GetInt64()); // the hand-written node's version, no more
        using (var stillThere = await admin.GetAsync("graph/nodes/reporting"))
        {
            Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);
        }

        // 4. Applied: one version; reporting and its edges go, the hand-written node stays.
        using var apply = await admin.PostAsJsonAsync(Import, Body(edited));
        var applied = await apply.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(applied.GetProperty("applied").GetBoolean());
        Assert.Equal(3, applied.GetProperty("version").GetInt64());
        AssertTheEdit(applied.GetProperty("diff"));
        using var gone = await admin.GetAsync("graph/nodes/reporting");
        using var kept = await admin.GetAsync("graph/nodes/hand-made");
        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.OK), (gone.StatusCode, kept.StatusCode));
        var billing = await admin.GetFromJsonAsync<JsonElement>("graph/nodes/billing");
        Assert.Equal(["pci", "pii", "regulated"], billing.GetProperty("node").GetProperty("dataClasses").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(3, billing.GetProperty("node").GetProperty("version").GetInt64());
    }

    private static void AssertTheEdit(JsonElement diff)
    {
        var change = Assert.Single(diff.GetProperty("changed").GetProperty("nodes").EnumerateArray());
        Assert.Equal("billing", change.GetProperty("id").GetString());
        Assert.Equal(["dataClasses"], change.GetProperty("fields").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(["reporting"], diff.GetProperty("removed").GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetString()));
        Assert.Equal(["reporting->billing:calls", "reporting->ledger-db:reads"],
            diff.GetProperty("removed").GetProperty("edges").EnumerateArray().Select(e => $"{e.GetProperty("from")}->{e.GetProperty("to")}:{e.GetProperty("kind")}").Order());
        Assert.Equal(0, Count(diff, "added", "nodes") + Count(diff, "added", "edges"));
    }

    [Fact]
    public async Task Bad_yaml_and_unknown_refs_get_400_problem_details_naming_file_line_entity_and_field()
    {
        using var admin = await fixture.ClientAsync(GraphFixture.Admin);
        var before = await fixture.Plane.CountAsync("select version from graph_head");

        using var yaml = new StringContent("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: [oops\n", Encoding.UTF8, "application/yaml");
        using var badYaml = await admin.PostAsync(Import, yaml);
        var unknownRef = DemoFiles().Select(f => f with { Content = f.Content.Replace("component:search", "component:serch", StringComparison.Ordinal) });
        using var badRef = await admin.PostAsJsonAsync($"{Import}?dryRun=true", Body(unknownRef));
        using var noFiles = await admin.PostAsJsonAsync(Import, new { files = Array.Empty<object>() });

        Assert.All([badYaml, badRef, noFiles], r =>
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        });
        var yamlProblem = Assert.Single((await badYaml.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("problems").EnumerateArray());
        Assert.Equal(("catalog-info.yaml", "yaml"), (yamlProblem.GetProperty("file").GetString(), yamlProblem.GetProperty("field").GetString()));
        Assert.True(yamlProblem.GetProperty("line").GetInt32() >= 4);
        var refProblems = (await badRef.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("problems").EnumerateArray()
            .Select(p => $"{p.GetProperty("file")}:{p.GetProperty("line")} {p.GetProperty("entity")} {p.GetProperty("field")}").Order().ToList();
        // The gateway's dependency-flows annotation names search, which (misspelt) it no longer depends on: that is reported too.
        Assert.Equal(
        [
            "platform/catalog-info.yaml:11 component:gateway controlplane.io/dependency-flows", "platform/catalog-info.yaml:20 component:gateway spec.dependsOn",
            "web/catalog-info.yaml:16 component:web-app spec.dependsOn",
        ], refProblems);
        Assert.Equal(before, await fixture.Plane.CountAsync("select version from graph_head"));
    }

    [Fact]
    public async Task Importing_needs_graph_write()
    {
        using var viewer = await fixture.ClientAsync(GraphFixture.Viewer);
        using var anonymous = fixture.Plane.Host.CreateHttpClient();

        using var forbidden = await viewer.PostAsJsonAsync(Import, Body(DemoFiles()));
        using var unauthorized = await anonymous.PostAsJsonAsync(Import, Body(DemoFiles()));

        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Unauthorized), (forbidden.StatusCode, unauthorized.StatusCode));
    }
}
