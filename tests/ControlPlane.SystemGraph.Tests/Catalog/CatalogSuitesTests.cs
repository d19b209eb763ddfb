using ControlPlane.Contracts;
using ControlPlane.SystemGraph.Catalog;
using static ControlPlane.SystemGraph.Tests.Catalog.CatalogSamples;

namespace ControlPlane.SystemGraph.Tests.Catalog;

/// <summary>controlplane.io/validation-suites and controlplane.io/dependency-flows.</summary>
public sealed class CatalogSuitesTests
{
    [Fact]
    public void Suites_are_read_with_fleet_duration_stage_and_covers_that_may_hold_commas()
    {
        var (graph, problems) = Map(Team + Component("a",
            annotations: "validation-suites: \"a-contract: testing, 2m, charges, refunds; a-leak: testing, 90, verify, memory stays flat\""));

        Assert.Empty(problems);
        Assert.Equal(
        [
            new ValidationSuite("a-contract", "testing", "charges, refunds", 120),
            new ValidationSuite("a-leak", "testing", "memory stays flat", 90, "verify"),
        ], graph!.Nodes.Single().SuitesOrEmpty);
    }

    [Theory]
    [InlineData("no-colon testing 60s covers", "is not 'name: fleet, duration")]
    [InlineData("a-x: testing, soon, covers", "is not 'name: fleet, duration")]
    [InlineData("Bad Name: testing, 60s, covers", "suites[0].name")]
    [InlineData("a-x: testing, 0s, covers", "suites[0].durationSeconds")]
    [InlineData("a-x: testing, 60s, covers; a-x: testing, 30s, again", "suites[1].name")]
    public void A_bad_suite_is_a_problem_at_the_annotation(string value, string expected)
    {
        var (graph, problems) = Map(Team + Component("a", annotations: $"validation-suites: \"{value}\""));

        Assert.Null(graph);
        var problem = Assert.Single(problems);
        Assert.Equal(BackstageMapper.ValidationSuitesAnnotation, problem.Field);
        Assert.Contains(expected, problem.Message, StringComparison.Ordinal);
        Assert.NotNull(problem.Line);
    }

    [Fact]
    public void Dependency_flows_override_the_kinds_default_and_must_name_a_dependency_and_a_flow()
    {
        var (graph, problems) = Map(Team + Component("b") + Component("c")
            + Component("a", "  dependsOn: [component:b, component:c]", annotations: "dependency-flows: b=public-ingress"));

        Assert.Empty(problems);
        Assert.Equal(["a->b:calls public-ingress", "a->c:calls internal-call"], graph!.Edges.Select(e => $"{e} {e.Flow}"));

        var (bad, errors) = Map(Team + Component("b") + Component("a", "  dependsOn: [component:b]", annotations: "dependency-flows: b=teleport, ghost=async"));
        Assert.Null(bad);
        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.Equal(BackstageMapper.DependencyFlowsAnnotation, e.Field));
        Assert.Contains(errors, e => e.Message.Contains("'b=teleport' is not 'node-id=flow'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.Contains("names 'ghost'", StringComparison.Ordinal));
    }
}
