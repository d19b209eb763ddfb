using ControlPlane.Contracts;
using ControlPlane.Policy.Validation;
using static ControlPlane.Policy.Tests.Validation.DemoImpacts;

namespace ControlPlane.Policy.Tests.Validation;

public sealed class ValidationPlannerTests
{
    private static ValidationPlanRule Rule(DependentSelection[]? dependents = null, string[]? require = null, AddedSuite[]? add = null,
        Dictionary<string, int>? retries = null, string[]? advisory = null) =>
        new(dependents ?? [], require ?? [], add ?? [], retries ?? [], advisory ?? []);

    private static DependentSelection Select(int? maxDepth = null, int? tier = null, string[]? classes = null, string[]? flows = null, bool reachableOnly = false, bool advisory = false) =>
        new(maxDepth, tier, classes, flows, reachableOnly, advisory);

    private static ValidationPlan Plan(ImpactReport impact, params ValidationPlanRule[] rules) =>
        ValidationPlanner.Plan(impact, [.. rules.Select((r, i) => ($"rule-{i}", r))])!;

    [Fact]
    public void The_targets_suites_are_required_and_their_verify_suites_are_the_verifications()
    {
        var plan = Plan(Billing(), Rule());

        Assert.Equal(7, plan.GraphVersion);
        Assert.Equal(["billing-api-contract", "billing-ledger-integrity"], plan.Suites.Select(s => s.Suite));
        Assert.All(plan.Suites, s => Assert.Equal((true, "billing", "target billing declares it"), (s.Required, s.NodeId, Assert.Single(s.Reasons))));
        var verify = Assert.Single(plan.Verifications!);
        Assert.Equal(("billing-leak-check", "testing", true), (verify.Suite, verify.Fleet, verify.Required));
    }

    [Fact]
    public void Reachable_only_keeps_the_dependents_outside_traffic_reaches_with_a_reason_naming_the_path()
    {
        var plan = Plan(Billing(), Rule([Select(maxDepth: 1, reachableOnly: true)]));

        var checkout = Assert.Single(plan.Suites, s => s.NodeId != "billing");
        Assert.Equal("checkout-e2e", checkout.Suite);
        Assert.Equal("checkout (depth 1, internal-call, tier 1, reachable via gateway → checkout) depends on billing: rule rule-0 selects dependents (max-depth 1, reachable only)",
            Assert.Single(checkout.Reasons));
    }

    [Fact]
    public void Unknown_reachability_fails_closed_so_reachable_only_drops_nothing()
    {
        var unknown = Billing() with { TargetNodes = null };

        var plan = Plan(unknown, Rule([Select(maxDepth: 1, reachableOnly: true)]));

        Assert.Equal(["billing-admin-smoke", "checkout-e2e", "reporting-billing-export"], plan.Suites.Select(s => s.Suite));
        Assert.All(plan.Suites, s => Assert.Contains("reachability unknown", s.Reasons[0], StringComparison.Ordinal));
    }

    [Fact]
    public void Selections_filter_on_depth_tier_data_classes_and_flow()
    {
        Assert.Equal(["gateway-smoke"], Plan(Billing(), Rule([Select(tier: 0)])).Suites.Where(s => s.NodeId != "billing").Select(s => s.Suite));
        Assert.Equal(["gateway-smoke"], Plan(Billing(), Rule([Select(flows: [EdgeFlows.PublicIngress])])).Suites.Where(s => s.NodeId != "billing").Select(s => s.Suite));
        Assert.Equal(["gateway-smoke"], Plan(Billing(), Rule([Select(classes: ["public"])])).Suites.Where(s => s.NodeId != "billing").Select(s => s.Suite));
        Assert.Equal(5, Plan(Billing(), Rule([Select(maxDepth: 2)])).Suites.Count(s => s.NodeId != "billing"));
    }

    [Fact]
    public void A_minimum_makes_every_tier_0_dependents_suites_required_even_where_another_rule_only_advises()
    {
        var plan = Plan(Billing(), Rule([Select(advisory: true)]), Rule(require: ["all-tier-0-dependents"]));

        var gateway = plan.Suites.Single(s => s.Suite == "gateway-smoke");
        Assert.True(gateway.Required);
        Assert.Equal(2, gateway.Reasons.Count); // chosen by both rules: both reasons kept, the suite appears once
        Assert.Contains(gateway.Reasons, r => r.EndsWith("rule rule-1 requires all-tier-0-dependents", StringComparison.Ordinal));
        Assert.False(plan.Suites.Single(s => s.Suite == "reporting-billing-export").Required);
    }

    [Fact]
    public void The_advisory_list_and_retries_apply_to_chosen_suites_but_never_relax_a_targets_suite()
    {
        var plan = Plan(Billing(),
            Rule([Select(maxDepth: 1)], retries: new() { ["checkout-e2e"] = 1 }, advisory: ["reporting-billing-export", "billing-api-contract"]),
            Rule(retries: new() { ["checkout-e2e"] = 2 }));

        Assert.False(plan.Suites.Single(s => s.Suite == "reporting-billing-export").Required);
        Assert.True(plan.Suites.Single(s => s.Suite == "billing-api-contract").Required);
        Assert.Equal(2, plan.Suites.Single(s => s.Suite == "checkout-e2e").Retries);
    }

    [Fact]
    public void An_added_suite_joins_by_name_with_the_declared_details_or_last_when_its_node_is_outside_the_impact()
    {
        var plan = Plan(Billing(), Rule(add: [new AddedSuite("gateway-smoke", "gateway", "testing"), new AddedSuite("search-smoke", "search", "qa")]));

        Assert.Equal(["billing-api-contract", "billing-ledger-integrity", "gateway-smoke", "search-smoke"], plan.Suites.Select(s => s.Suite));
        Assert.Equal("what gateway-smoke covers", plan.Suites.Single(s => s.Suite == "gateway-smoke").Covers);
        var outside = plan.Suites[^1];
        Assert.Equal(("search", "qa", "added by rule rule-0", true), (outside.NodeId, outside.Fleet, outside.Covers, outside.Required));
    }

    [Fact]
    public void No_plan_rules_or_no_impact_means_no_plan()
    {
        Assert.Null(ValidationPlanner.Plan(Billing(), []));
        Assert.Null(ValidationPlanner.Plan(null, [("r", Rule())]));
    }

    [Fact]
    public void Each_planned_suite_maps_to_exactly_one_run_suite_step_and_listed_steps_follow_deduplicated()
    {
        var plan = Plan(Billing(), Rule([Select(maxDepth: 1, advisory: true)], retries: new() { ["checkout-e2e"] = 1 }));
        StepRequirement[] listed = [new("unit-tests", "run-command", new Dictionary<string, string> { ["command"] = "unit-tests" }), new("checkout-e2e", "http-check", new Dictionary<string, string>())];

        var steps = PlanSteps.Validations(plan, listed);

        var checkout = steps.Single(s => s.Name == "checkout-e2e");
        Assert.Equal("run-command", checkout.ActionKind);
        Assert.Equal(new Dictionary<string, string> { ["command"] = "run-suite", ["suite"] = "checkout-e2e", ["node"] = "checkout", ["fleet"] = "testing" }, checkout.Parameters);
        Assert.Equal((1, true), (checkout.Retries, checkout.Advisory));
        Assert.Equal([.. plan.Suites.Select(s => s.Suite), "unit-tests"], steps.Select(s => s.Name));
        Assert.Equal(["billing-leak-check"], PlanSteps.Verifications(plan, []).Select(s => s.Name));
        Assert.Same(listed, PlanSteps.Validations(null, listed));
    }

    /// <summary>Property: the plan is a function of the report's content: the order dependents come in never changes it.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void The_plan_is_deterministic_whatever_the_order_of_the_report(int seed)
    {
        var random = new Random(seed);
        var impact = Billing();
        var shuffled = impact with { Dependents = [.. impact.Dependents.OrderBy(_ => random.Next())] };
        ValidationPlanRule[] rules = [Rule([Select(maxDepth: 1, reachableOnly: true), Select(advisory: true)], ["all-tier-0-dependents"]), Rule([Select(tier: 1)])];

        var a = Plan(impact, rules);
        var b = Plan(shuffled, rules);

        Assert.Equal(Canonical(a), Canonical(b));
    }

    /// <summary>Property: a dependent no rule selects (as an unrelated node would be, were it in the report at all) never changes the plan.</summary>
    [Fact]
    public void A_dependent_no_selection_chooses_changes_nothing()
    {
        var rules = Rule([Select(maxDepth: 1, reachableOnly: true)], ["all-tier-0-dependents"]);
        var impact = Billing();
        var extra = impact with { Dependents = [.. impact.Dependents, Dependent("far-away", 3, ["billing", "checkout", "web-app", "far-away"], 3, [], EdgeFlows.Async, null, Suite("far-suite"))] };

        Assert.Equal(Canonical(Plan(impact, rules)), Canonical(Plan(extra, rules)));
    }

    private static string Canonical(ValidationPlan plan) => CanonicalJson.ToText(plan);
}
