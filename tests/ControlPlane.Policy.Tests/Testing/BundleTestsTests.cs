using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using ControlPlane.Policy.Testing;

namespace ControlPlane.Policy.Tests.Testing;

/// <summary>The top-level 'tests:' list of a bundle: parsing (errors with YAML paths), hashing, and the pure runner.</summary>
public sealed class BundleTestsTests
{
    private const string Rules = """
        rules:
          - id: prod-revenue-approval
            match: { environments: [production], impact: { revenue-path: true } }
            outcome: require-approval
            approval: { count: 1, roles: [approver], expiry: 4h }
          - id: prod-low-risk
            match: { environments: [production], impact: { highest-criticality-at-least: 2 } }
            outcome: allow
          - id: no-regulated-purge
            match: { actions: ["purge-*"], impact: { data-classes-any-of: [regulated] }, change: { rollback-plan: absent } }
            outcome: deny
        """;

    private const string PassingTests = """
        tests:
          - name: revenue-change-needs-approval
            facts:
              action: deploy
              environment: production
              agent: remediation-agent
              rollback-plan: present
              impact: { highest-criticality: 1, revenue-path: true, data-classes: [pci], dependents: 3, reachable: true }
            expect: { outcome: require-approval, rules: [prod-revenue-approval] }
          - name: leaf-change-allowed
            facts: { action: deploy, environment: production, impact: { highest-criticality: 3 } }
            expect: { outcome: allow, rules-include: [prod-low-risk] }
          - name: purge-without-rollback-denied
            facts: { action: purge-ledger, environment: production, impact: { highest-criticality: 3, data-classes: [regulated] } }
            expect: { outcome: deny, rules: [no-regulated-purge, prod-low-risk] }
          - name: elsewhere-nothing-matches
            facts: { action: deploy, environment: qa }
            expect: { outcome: deny, rules: [] }
        """;

    [Fact]
    public void Tests_parse_into_facts_and_expectations()
    {
        var parsed = BundleParser.Parse(Rules + "\n" + PassingTests);

        Assert.True(parsed.IsValid, string.Join("; ", parsed.Errors));
        var tests = parsed.Bundle!.Tests!;
        Assert.Equal(4, tests.Count);
        var first = tests[0];
        Assert.Equal("revenue-change-needs-approval", first.Name);
        Assert.Equal(new PolicyFacts("deploy", "production", "remediation-agent", true, 1, true, first.Facts.DataClasses, 3, false, false, Reachable: true),
            first.Facts);
        Assert.Equal(["pci"], first.Facts.DataClasses);
        Assert.Equal(DecisionOutcome.RequireApproval, first.Outcome);
        Assert.Equal(["prod-revenue-approval"], first.Rules);
        Assert.Null(first.RulesInclude);
        Assert.Equal(["prod-low-risk"], tests[1].RulesInclude);
        Assert.Empty(tests[3].Rules!);
    }

    [Fact]
    public void Tests_are_part_of_the_hash_and_a_bundle_without_them_keeps_its_hash()
    {
        var without = BundleParser.Parse(Rules).Bundle!;
        var with = BundleParser.Parse(Rules + "\n" + PassingTests).Bundle!;

        Assert.Null(without.Tests);
        Assert.NotEqual(CompiledPolicy.HashOf(without), CompiledPolicy.HashOf(with));
        Assert.Equal(CompiledPolicy.HashOf(without), CompiledPolicy.HashOf(with with { Tests = null }));
    }

    [Theory]
    [InlineData("tests: { a: 1 }", "$.tests", "'tests' must be a list")]
    [InlineData("tests:\n  - name: x\n    facts: { action: deploy }\n    expect: { outcome: allow }", "$.tests[0].facts.environment", "'environment' is required")]
    [InlineData("tests:\n  - name: x\n    facts: { action: deploy, environment: qa, impact: { criticality: 1 } }\n    expect: { outcome: allow }", "$.tests[0].facts.impact.criticality", "unknown key 'criticality'")]
    [InlineData("tests:\n  - name: x\n    facts: { action: deploy, environment: qa, impact: { highest-criticality: 7 } }\n    expect: { outcome: allow }", "$.tests[0].facts.impact.highest-criticality", "from 0 to 3")]
    [InlineData("tests:\n  - name: x\n    facts: { action: deploy, environment: qa }\n    expect: { outcome: maybe }", "$.tests[0].expect.outcome", "not one of allow")]
    [InlineData("tests:\n  - name: x\n    facts: { action: deploy, environment: qa }\n    expect: { outcome: allow, rules: [no-such-rule] }", "$.tests[0].expect.rules", "'no-such-rule' is not a rule of this bundle")]
    [InlineData("tests:\n  - name: x\n    facts: { action: deploy, environment: qa }\n    expect: { outcome: allow, rules: [prod-low-risk], rules-include: [prod-low-risk] }", "$.tests[0].expect", "not both")]
    [InlineData("tests:\n  - name: x\n    facts: { action: deploy, environment: qa }", "$.tests[0].expect", "'expect' is required")]
    [InlineData("tests:\n  - name: x\n    facts: { action: deploy, environment: qa, rollback-plan: maybe }\n    expect: { outcome: allow }", "$.tests[0].facts.rollback-plan", "'present' or 'absent'")]
    [InlineData("tests:\n  - name: x\n    facts: { action: deploy, environment: qa }\n    expect: { outcome: deny }\n  - name: x\n    facts: { action: deploy, environment: qa }\n    expect: { outcome: deny }", "$.tests[1].name", "used by an earlier test")]
    [InlineData("tests:\n  - name: Bad Name\n    facts: { action: deploy, environment: qa }\n    expect: { outcome: deny }", "$.tests[0].name", "lowercase")]
    public void Test_case_errors_name_their_yaml_path(string tests, string path, string message)
    {
        var parsed = BundleParser.Parse(Rules + "\n" + tests);

        Assert.False(parsed.IsValid);
        Assert.Contains(parsed.Errors, e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal) && e.Line > 0);
    }

    [Fact]
    public void The_runner_passes_a_bundle_whose_tests_hold()
    {
        var report = PolicyTestRunner.Run(Compile(Rules + "\n" + PassingTests), DateTimeOffset.UnixEpoch);

        Assert.Equal(4, report.Total);
        Assert.True(report.AllPassed, string.Join("; ", report.Failures.Select(f => f.Failure)));
        Assert.Equal(["no-regulated-purge", "prod-low-risk"], report.Results[2].ActualRules);
    }

    [Fact]
    public void The_runner_reports_expected_against_actual_for_each_failing_case()
    {
        // The revenue rule now allows: the first case's outcome changes; the exact-set case fails on rules too.
        var changed = Rules.Replace("outcome: require-approval\n    approval: { count: 1, roles: [approver], expiry: 4h }", "outcome: allow", StringComparison.Ordinal);
        var tests = PassingTests + """

              - name: wrong-rules-only
                facts: { action: deploy, environment: production, impact: { highest-criticality: 3 } }
                expect: { outcome: allow, rules: [prod-low-risk, prod-revenue-approval] }
            """;
        var report = PolicyTestRunner.Run(Compile(changed + "\n" + tests), DateTimeOffset.UnixEpoch);

        Assert.Equal(2, report.Failed);
        var outcome = report.Results[0];
        Assert.False(outcome.Passed);
        Assert.Equal(DecisionOutcome.RequireApproval, outcome.ExpectedOutcome);
        Assert.Equal(DecisionOutcome.Allow, outcome.ActualOutcome);
        Assert.Equal("expected require-approval, got allow", outcome.Failure);
        var rules = report.Results[4];
        Assert.Equal(DecisionOutcome.Allow, rules.ActualOutcome);
        Assert.Equal("expected rules exactly [prod-low-risk, prod-revenue-approval], fired [prod-low-risk]", rules.Failure);
        Assert.True(report.Results[1].Passed);
    }

    [Fact]
    public void Rules_include_fails_when_a_named_rule_does_not_fire()
    {
        var test = new PolicyTestCase("t", new PolicyFacts("deploy", "production", null, false, 3, false, [], 0, false, false),
            DecisionOutcome.Allow, RulesInclude: ["prod-revenue-approval"]);

        var result = PolicyTestRunner.Run(Compile(Rules), test, DateTimeOffset.UnixEpoch);

        Assert.False(result.Passed);
        Assert.Contains("[prod-revenue-approval] did not fire", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void The_shipped_default_bundle_carries_tests_that_pass()
    {
        var parsed = BundleParser.Parse(DefaultBundle.Yaml);
        Assert.True(parsed.IsValid, string.Join("; ", parsed.Errors));

        var report = PolicyTestRunner.Run(new CompiledPolicy(parsed.Bundle!, "1"), DateTimeOffset.UnixEpoch);

        Assert.True(report.Total >= 5);
        Assert.True(report.AllPassed, string.Join("; ", report.Failures.Select(f => $"{f.Name}: {f.Failure}")));
    }

    private static CompiledPolicy Compile(string yaml)
    {
        var parsed = BundleParser.Parse(yaml);
        Assert.True(parsed.IsValid, string.Join("; ", parsed.Errors));
        return new CompiledPolicy(parsed.Bundle!, "test");
    }
}
