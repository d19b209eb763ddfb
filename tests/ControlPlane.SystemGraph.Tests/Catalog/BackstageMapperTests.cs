using ControlPlane.SystemGraph.Catalog;
using ControlPlane.SystemGraph.Graph;
using static ControlPlane.SystemGraph.Tests.Catalog.CatalogSamples;

namespace ControlPlane.SystemGraph.Tests.Catalog;

public sealed class BackstageMapperTests
{
    [Fact]
    public void The_shipped_demo_catalog_describes_exactly_the_seed_graph()
    {
        var read = BackstageCatalogReader.Read(DemoFiles());
        Assert.Empty(read.Problems);
        var (graph, problems) = BackstageMapper.Map(read.Entities);
        var (seedNodes, seedEdges) = SeedGraph();

        Assert.Empty(problems);
        Assert.Equal(seedNodes.Count, graph!.Nodes.Count);
        Assert.All(seedNodes.Zip(graph.Nodes), pair => Assert.True(pair.First.SameAttributesAs(pair.Second), $"{pair.First} vs {pair.Second}"));
        Assert.Equal(seedEdges.Select(e => e.ToString()), graph.Edges.Select(e => e.ToString()).Order(StringComparer.Ordinal));
        // Flows too: dependency-flows and the kinds' defaults give the seed's flows; suites are compared with the nodes.
        Assert.Equal(seedEdges.Select(e => $"{e} {e.Flow}").Order(StringComparer.Ordinal), graph.Edges.Select(e => $"{e} {e.Flow}").Order(StringComparer.Ordinal));
        Assert.Equal(3, graph.Nodes.Single(n => n.Id == "billing").SuitesOrEmpty.Count);
        Assert.Empty(graph.Warnings);
    }

    [Fact]
    public void Malformed_yaml_is_a_problem_naming_the_file_and_line()
    {
        var read = Read(Team, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: [unclosed\n");

        var problem = Assert.Single(read.Problems);
        Assert.Equal("f1/catalog-info.yaml", problem.File);
        Assert.Equal("yaml", problem.Field);
        Assert.InRange(problem.Line!.Value, 4, 5);
    }

    [Fact]
    public void An_unknown_dependsOn_ref_names_file_line_entity_and_field()
    {
        var (graph, problems) = Map(Team + Component("a", "  dependsOn: [component:ghost]"));

        Assert.Null(graph);
        var problem = Assert.Single(problems);
        Assert.Equal(("f0/catalog-info.yaml", "component:a", "spec.dependsOn"), (problem.File, problem.Entity, problem.Field));
        Assert.Contains("unknown ref 'component:ghost'", problem.Message, StringComparison.Ordinal);
        Assert.Equal(15, problem.Line); // the dependsOn line
    }

    [Fact]
    public void Every_problem_of_a_catalog_is_reported_at_once()
    {
        var (graph, problems) = Map(Team
            + Component("a", "  system: nowhere", annotations: "tier: \"7\"")
            + Component("b", "  consumesApis: [payments-api]", annotations: "revenue-path: maybe")
            + Component("c", "  dependsOn: [api:x]", annotations: "data-classes: Top Secret")
            + "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: { name: d }\nspec: { type: service, owner: user:dan }\n");

        Assert.Null(graph);
        Assert.Equal(
            [
                ("component:a", BackstageMapper.TierAnnotation), ("component:a", "spec.system"), ("component:b", BackstageMapper.RevenuePathAnnotation),
                ("component:b", "spec.consumesApis"), ("component:c", BackstageMapper.DataClassesAnnotation), ("component:c", "spec.dependsOn"),
                ("component:d", "spec.owner"),
            ],
            problems.Select(p => (p.Entity!, p.Field)).Order());
    }

    [Fact]
    public void Defaults_are_taken_with_a_warning_and_edge_kinds_follow_the_dependency()
    {
        var (graph, problems) = Map(Team
            + Component("a", "  dependsOn: [component:b, resource:db, resource:q]", annotations: "dependency-kinds: q=publishes")
            + Component("b", annotations: "kind: external")
            + "---\napiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: { name: db, annotations: { controlplane.io/tier: '0' } }\nspec: { type: database, owner: team-a }\n"
            + "---\napiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: { name: q, annotations: { controlplane.io/tier: '1' } }\nspec: { type: topic, owner: team-a }\n");

        Assert.Empty(problems);
        Assert.Equal(["a->b:calls", "a->db:reads", "a->q:publishes"], graph!.Edges.Select(e => e.ToString()));
        Assert.Equal([("a", "service", BackstageMapper.DefaultTier), ("b", "external", BackstageMapper.DefaultTier), ("db", "datastore", 0), ("q", "queue", 1)],
            graph.Nodes.Select(n => (n.Id, n.Kind, n.CriticalityTier)));
        Assert.Equal(2, graph.Warnings.Count(w => w.Contains("no controlplane.io/tier", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_dependency_cycle_is_kept_because_impact_walks_end_on_cycles()
    {
        var (graph, problems) = Map(Team + Component("a", "  dependsOn: [component:b]") + Component("b", "  dependsOn: [component:a]"));

        Assert.Empty(problems);
        Assert.Equal(["a->b:calls", "b->a:calls"], graph!.Edges.Select(e => e.ToString()));
        var impact = ImpactAnalyzer.Assess(new GraphSnapshot(1, graph.Nodes, graph.Edges), ["a"], DateTimeOffset.UnixEpoch);
        Assert.Equal(["b"], impact.Dependents.Select(d => d.NodeId));
    }

    [Fact]
    public void A_consumed_api_without_provider_is_a_warning_not_an_edge()
    {
        var (graph, problems) = Map(Team + Component("a", "  consumesApis: [x-api]")
            + "---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: { name: x-api }\nspec: { type: openapi, owner: team-a }\n");

        Assert.Empty(problems);
        Assert.Empty(graph!.Edges);
        Assert.Contains(graph.Warnings, w => w.Contains("consumes api:x-api, which no component in the catalog provides", StringComparison.Ordinal));
    }

    [Fact]
    public void Duplicate_entities_and_clashing_node_ids_are_problems()
    {
        var (_, problems) = Map(Team + Component("a") + Component("a") + Component("b", annotations: "node-id: c") + Component("c"));

        Assert.Equal([("component:a", "metadata.name"), ("component:c", BackstageMapper.NodeIdAnnotation)], problems.Select(p => (p.Entity!, p.Field)));
    }

    [Fact]
    public void Other_kinds_are_skipped_with_a_note_and_a_missing_apiVersion_is_named()
    {
        var read = Read("apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: { name: root }\nspec: { targets: [] }\n---\nkind: Group\nmetadata: { name: g }\n");

        Assert.Contains(read.Warnings, w => w.Contains("location:root skipped", StringComparison.Ordinal));
        var problem = Assert.Single(read.Problems);
        Assert.Equal(("group:g", "apiVersion"), (problem.Entity, problem.Field));
    }

    [Fact]
    public void Loading_files_keeps_the_reader_notes_beside_the_mapping_notes_and_stops_at_unreadable_files()
    {
        var (graph, problems) = BackstageMapper.Load([
            new CatalogFile("a.yaml", Team + Component("a", annotations: "data-classes: pii")),
            new CatalogFile("loc.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: { name: root }\nspec: { targets: [] }\n")]);
        var (broken, brokenProblems) = BackstageMapper.Load([new CatalogFile("bad.yaml", "kind: [")]);

        Assert.Empty(problems);
        Assert.Equal(2, graph!.Warnings.Count);
        Assert.Contains(graph.Warnings, w => w.StartsWith("loc.yaml:1: location:root skipped", StringComparison.Ordinal));
        Assert.Contains(graph.Warnings, w => w.Contains("component:a has no controlplane.io/tier", StringComparison.Ordinal));
        Assert.Null(broken);
        Assert.Equal("bad.yaml", Assert.Single(brokenProblems).File);
    }
}
