using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using ControlPlane.Policy.Validation;

namespace ControlPlane.Policy.Tests.Validation;

public sealed class ValidationPlanParserTests
{
    private const string Head = "rules:\n  - id: r\n    outcome: allow\n";

    [Fact]
    public void A_full_validation_plan_parses_into_its_canonical_form()
    {
        var parsed = BundleParser.Parse(Head + """
                validation-plan:
                  dependents:
                    - { max-depth: 1, reachable-only: true }
                    - { criticality-at-most: 1, data-classes-any-of: [pci, regulated], flows-any-of: [internal-call], advisory: true }
                  require: [all-tier-0-dependents]
                  add: [{ suite: gateway-smoke, node: gateway }]
                  retries: { checkout-e2e: 1 }
                  advisory: [reporting-billing-export]
            """);

        Assert.True(parsed.IsValid, string.Join("\n", parsed.Errors));
        var plan = parsed.Bundle!.Rules.Single().Plan!;
        Assert.Equal(new DependentSelection(1, null, null, null, true, false), plan.Dependents[0]);
        Assert.Equal((1, true, "internal-call"), (plan.Dependents[1].CriticalityAtMost, plan.Dependents[1].Advisory, plan.Dependents[1].FlowsAnyOf!.Single()));
        Assert.Equal(["all-tier-0-dependents"], plan.Require);
        Assert.Equal(new AddedSuite("gateway-smoke", "gateway", "testing"), plan.Add.Single());
        Assert.Equal(1, plan.Retries["checkout-e2e"]);
        Assert.Equal(["reporting-billing-export"], plan.Advisory);
    }

    [Fact]
    public void A_bundle_without_a_validation_plan_hashes_as_it_did_the_plan_is_left_out_of_the_canonical_form()
    {
        var parsed = BundleParser.Parse(Head);

        Assert.DoesNotContain("plan", CanonicalJson.ToText(parsed.Bundle!), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("reachable", CanonicalJson.ToText(parsed.Bundle!), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("    validation-plan: [1]\n", "$.rules[0].validation-plan", "must be a mapping")]
    [InlineData("    validation-plan: { depth: 1 }\n", "$.rules[0].validation-plan.depth", "unknown key 'depth'")]
    [InlineData("    validation-plan: { dependents: { max-depth: 1 } }\n", "$.rules[0].validation-plan.dependents", "must be a list")]
    [InlineData("    validation-plan: { dependents: [{ max-depth: 0 }] }\n", "$.rules[0].validation-plan.dependents[0].max-depth", "whole number from 1")]
    [InlineData("    validation-plan: { dependents: [{ flows-any-of: [teleport] }] }\n", "$.rules[0].validation-plan.dependents[0].flows-any-of", "'teleport' is not a flow")]
    [InlineData("    validation-plan: { dependents: [{ reachable-only: maybe }] }\n", "$.rules[0].validation-plan.dependents[0].reachable-only", "true or false")]
    [InlineData("    validation-plan: { require: [all-tier-7-dependents] }\n", "$.rules[0].validation-plan.require", "is not a minimum")]
    [InlineData("    validation-plan: { add: [{ suite: x }] }\n", "$.rules[0].validation-plan.add[0].node", "'node' is required")]
    [InlineData("    validation-plan: { retries: { checkout-e2e: 5 } }\n", "$.rules[0].validation-plan.retries.checkout-e2e", "from 0 to 3")]
    [InlineData("    validation-plan: { advisory: [Bad Suite] }\n", "$.rules[0].validation-plan.advisory", "name without spaces")]
    public void A_bad_validation_plan_is_an_error_with_its_path_and_rule(string block, string path, string message)
    {
        var parsed = BundleParser.Parse(Head + block);

        Assert.False(parsed.IsValid);
        var error = Assert.Single(parsed.Errors, e => e.Path == path);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal("r", error.RuleId);
    }

    [Fact]
    public void A_deny_rule_cannot_have_a_validation_plan()
    {
        var parsed = BundleParser.Parse("rules:\n  - id: r\n    outcome: deny\n    validation-plan: { require: [all-dependents] }\n");

        Assert.Contains(parsed.Errors, e => e.Path == "$.rules[0].validation-plan" && e.Message.Contains("a deny rule runs nothing", StringComparison.Ordinal));
    }

    [Fact]
    public void Reachability_conditions_parse_and_refuse_bad_values()
    {
        var good = BundleParser.Parse("rules:\n  - id: r\n    match: { impact: { reachable: true, reachable-data-classes-any-of: [regulated], reachable-dependents-at-least: 2 } }\n    outcome: allow\n");
        var bad = BundleParser.Parse("rules:\n  - id: r\n    match: { impact: { reachable: often, reachable-dependents-at-least: -1 } }\n    outcome: allow\n");

        Assert.True(good.IsValid, string.Join("\n", good.Errors));
        var impact = good.Bundle!.Rules.Single().Match.Impact!;
        Assert.Equal((true, "regulated", 2), (impact.Reachable, impact.ReachableDataClassesAnyOf!.Single(), impact.ReachableDependentsAtLeast));
        Assert.Equal(["$.rules[0].match.impact.reachable", "$.rules[0].match.impact.reachable-dependents-at-least"], bad.Errors.Select(e => e.Path).Order());
    }
}
