using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;

namespace ControlPlane.Policy.Tests.Bundles;

public sealed class BundleParserTests
{
    private const string Complete = """
        name: complete
        description: every construct of the language
        rules:
          - id: prod-approval
            description: production needs approval
            match:
              actions: [deploy, "config-*"]
              environments: [production]
              agents: [remediation-agent]
              impact:
                highest-criticality-at-most: 1
                highest-criticality-at-least: 0
                revenue-path: true
                data-classes-any-of: [regulated, pci]
                dependents-at-least: 1
                dependents-at-most: 100
                internet-exposed: false
                unknown-targets: false
              change:
                rollback-plan: present
            outcome: require-approval
            approval: { count: 2, roles: [approver, operator], expiry: 1h30m }
            validations:
              - name: unit-tests
                action: run-command
                parameters: { command: unit-tests }
            verifications:
              - name: health
                action: http-check
                parameters: { path: /health, expect-status: "200" }
          - id: deny-all-else
            outcome: deny
        """;

    [Fact]
    public void A_bundle_using_every_construct_parses_into_records()
    {
        var result = BundleParser.Parse(Complete);

        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        var bundle = result.Bundle!;
        Assert.Equal("complete", bundle.Name);
        var rule = bundle.Rules[0];
        Assert.Equal("prod-approval", rule.Id);
        Assert.Equal(DecisionOutcome.RequireApproval, rule.Outcome);
        Assert.Equal(["config-*", "deploy"], rule.Match.Actions);
        Assert.Equal(["production"], rule.Match.Environments);
        Assert.Equal(["remediation-agent"], rule.Match.Agents);
        var impact = rule.Match.Impact!;
        Assert.Equal(new ImpactMatch(1, 0, true, impact.DataClassesAnyOf, 1, 100, false, false), impact);
        Assert.Equal(["pci", "regulated"], impact.DataClassesAnyOf);
        Assert.True(rule.Match.Change!.RollbackPlan);
        Assert.Equal(2, rule.Approval!.Count);
        Assert.Equal(["approver", "operator"], rule.Approval.Roles);
        Assert.Equal(TimeSpan.FromMinutes(90), rule.Approval.ExpiresAfter);
        Assert.Equal("run-command", rule.Validations.Single().ActionKind);
        Assert.Equal("unit-tests", rule.Validations.Single().Parameters["command"]);
        Assert.Equal("200", rule.Verifications.Single().Parameters["expect-status"]);
        Assert.Null(bundle.Rules[1].Match.Actions);
    }

    [Fact]
    public void An_unknown_key_is_an_error_with_its_line_column_and_rule()
    {
        var errors = Errors("""
            rules:
              - id: typo
                match:
                  environment: [production]
                outcome: allow
            """);

        var error = Assert.Single(errors);
        Assert.Equal("typo", error.RuleId);
        Assert.Equal(4, error.Line);
        Assert.Equal(7, error.Column);
        Assert.Equal("$.rules[0].match.environment", error.Path);
        Assert.Contains("unknown key 'environment'", error.Message, StringComparison.Ordinal);
        Assert.Contains("environments", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("line 4, column 7 (rule 'typo'): unknown key", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rules: []\nextra: 1\n", "unknown key 'extra'")]
    [InlineData("rules:\n  - id: r\n    outcome: allow\n    because: yes\n", "unknown key 'because'")]
    [InlineData("rules:\n  - id: r\n    match: { impact: { tier: 1 } }\n    outcome: allow\n", "unknown key 'tier'")]
    [InlineData("rules:\n  - id: r\n    match: { change: { rollback: absent } }\n    outcome: allow\n", "unknown key 'rollback'")]
    [InlineData("rules:\n  - id: r\n    outcome: require-approval\n    approval: { count: 1, roles: [approver], expiry: 1h, quorum: 2 }\n", "unknown key 'quorum'")]
    [InlineData("rules:\n  - id: r\n    outcome: allow\n    validations: [{ name: t, action: run-command, timeout: 5 }]\n", "unknown key 'timeout'")]
    public void Unknown_keys_are_rejected_at_every_level(string yaml, string expected)
    {
        Assert.Contains(Errors(yaml), e => e.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_error_of_a_bundle_is_reported_at_once()
    {
        var errors = Errors("""
            rules:
              - id: Bad Id
                outcome: maybe
              - id: no-outcome
                match: { impact: { highest-criticality-at-most: 7, revenue-path: sometimes } }
              - id: approval-missing
                outcome: require-approval
              - id: approval-misplaced
                outcome: allow
                approval: { count: 1, roles: [approver], expiry: 4h }
              - id: bad-approval
                outcome: require-approval
                approval: { count: 0, roles: [wizard], expiry: forever }
              - id: bad-approval
                outcome: deny
                validations: [{ name: t, action: run-command }]
            """);

        string[] expected =
        [
            "rule id 'Bad Id' must be lowercase",
            "outcome 'maybe' is not one of allow, require-approval, deny",
            "'outcome' is required",
            "'highest-criticality-at-most' must be a whole number from 0 to 3, not '7'",
            "'revenue-path' must be true or false, not 'sometimes'",
            "a require-approval rule needs 'approval'",
            "'approval' applies only to require-approval rules, not to allow",
            "'count' must be a whole number from 1 to 10, not '0'",
            "'wizard' is not a role",
            "expiry 'forever' must be a duration",
            "rule id 'bad-approval' is used by an earlier rule",
            "a deny rule runs nothing: remove 'validations'",
        ];
        foreach (var message in expected)
        {
            Assert.Contains(errors, e => e.Message.Contains(message, StringComparison.Ordinal));
        }

        Assert.Contains(errors, e => e.RuleId == "no-outcome" && e.Line == 5);
    }

    [Fact]
    public void Invalid_yaml_is_one_error_with_its_position()
    {
        var error = Assert.Single(Errors("rules:\n  - id: r\n    outcome: [allow\n"));

        Assert.StartsWith("invalid YAML", error.Message, StringComparison.Ordinal);
        Assert.True(error.Line >= 3);
    }

    [Fact]
    public void A_key_given_twice_is_refused()
    {
        var error = Assert.Single(Errors("rules:\n  - id: r\n    outcome: allow\n    outcome: deny\n"));

        Assert.Contains("key 'outcome' appears twice", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, error.Line);
    }

    [Fact]
    public void Aliases_are_refused()
    {
        var error = Assert.Single(Errors("rules:\n  - id: a\n    match: &m { environments: [dev] }\n    outcome: allow\n  - id: b\n    match: *m\n    outcome: allow\n"));

        Assert.Contains("aliases", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("just text")]
    [InlineData("rules: []")]
    [InlineData("name: no rules")]
    [InlineData("rules: [1]\n---\nrules: [2]\n")]
    public void A_bundle_without_rules_or_of_the_wrong_shape_is_refused(string yaml)
    {
        Assert.NotEmpty(Errors(yaml));
    }

    [Fact]
    public void Bounds_that_can_never_both_hold_are_refused()
    {
        var errors = Errors("rules:\n  - id: r\n    match: { impact: { highest-criticality-at-most: 1, highest-criticality-at-least: 2, dependents-at-least: 5, dependents-at-most: 4 } }\n    outcome: allow\n");

        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.Contains("can never both hold", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void An_empty_name_list_is_refused_because_it_would_match_nothing()
    {
        var error = Assert.Single(Errors("rules:\n  - id: r\n    match: { actions: [] }\n    outcome: allow\n"));

        Assert.Contains("non-empty list", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("4h", 4 * 60)]
    [InlineData("30m", 30)]
    [InlineData("1d", 24 * 60)]
    [InlineData("1h30m", 90)]
    public void Durations_parse(string text, int minutes)
    {
        Assert.Equal(TimeSpan.FromMinutes(minutes), BundleParser.ParseDuration(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("4")]
    [InlineData("h4")]
    [InlineData("4 h")]
    [InlineData("30m4h")]
    public void Non_durations_do_not_parse(string text)
    {
        Assert.Null(BundleParser.ParseDuration(text));
    }

    [Fact]
    public void The_hash_pins_content_not_formatting()
    {
        var compact = "rules: [{ id: r, match: { environments: [staging, dev] }, outcome: allow }]";
        var spelledOut = """
            # the same rule, written out
            rules:
              - outcome: allow
                id: r
                match:
                  environments:
                    - dev
                    - staging
            """;
        var different = "rules: [{ id: r, match: { environments: [dev] }, outcome: allow }]";

        Assert.Equal(Hash(compact), Hash(spelledOut));
        Assert.NotEqual(Hash(compact), Hash(different));
        Assert.StartsWith("sha256:", Hash(compact), StringComparison.Ordinal);
    }

    private static string Hash(string yaml) => CompiledPolicy.HashOf(BundleParser.Parse(yaml).Bundle!);

    private static IReadOnlyList<BundleError> Errors(string yaml)
    {
        var result = BundleParser.Parse(yaml);
        Assert.False(result.IsValid);
        return result.Errors;
    }
}
