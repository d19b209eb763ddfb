using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Proposals;

namespace ControlPlane.Orchestrator.Tests.Proposals;

public sealed class SubmissionValidatorTests
{
    private static readonly SubmissionValidator Validator = new(["dev", "staging", "production"]);

    internal static SubmitProposal Valid() => new(
        "key-1",
        new ProposedAction("restart", "Restart billing to clear a memory leak", new Dictionary<string, string> { ["replicas"] = "3" }),
        ["billing"],
        "production",
        new ChangeReference("sha256:0123abcd", "git@example.com:billing.git#a1b2c3", "roll back to the previous image"));

    [Fact]
    public void A_complete_submission_is_valid_and_normalized()
    {
        var check = Validator.Validate(Valid() with { Change = Valid().Change with { RollbackPlan = "  " } });

        Assert.True(check.IsValid);
        Assert.Empty(check.Errors);
        Assert.Null(check.Proposal!.Change.RollbackPlan);
    }

    [Fact]
    public void A_missing_body_is_one_error()
    {
        var check = Validator.Validate(null);

        Assert.False(check.IsValid);
        Assert.Equal(["body"], check.Errors.Keys);
    }

    [Fact]
    public void Every_bad_field_is_named()
    {
        var bad = new SubmitProposal(
            "has spaces",
            new ProposedAction("Restart!", "", new Dictionary<string, string> { ["1bad"] = "x", ["ok"] = new string('v', 3000) }),
            ["billing", "Billing", "billing"],
            "moon",
            new ChangeReference("not-a-digest", "", new string('r', 4001)));

        var errors = Validator.Validate(bad).Errors;

        Assert.Equal(
            new[]
            {
                "action.kind", "action.parameters.1bad", "action.parameters.ok", "action.summary", "change.digest", "change.reference",
                "change.rollbackPlan", "environment", "idempotencyKey", "targets[1]", "targets[2]",
            },
            errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("listed twice", errors["targets[2]"][0], StringComparison.Ordinal);
        Assert.Contains("dev, staging, production", errors["environment"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_parts_are_required()
    {
        var errors = Validator.Validate(new SubmitProposal(null!, null!, null!, null!, null!)).Errors;

        Assert.Equal(new[] { "action", "change", "environment", "idempotencyKey", "targets" }, errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Too_many_targets_are_refused()
    {
        var errors = Validator.Validate(Valid() with { Targets = Enumerable.Range(0, 51).Select(i => $"node-{i}").ToList() }).Errors;

        Assert.Equal(["targets"], errors.Keys);
    }

    [Fact]
    public void The_content_hash_covers_content_and_agent_but_not_the_parameter_order()
    {
        var a = Valid();
        var reordered = a with { Action = a.Action with { Parameters = new Dictionary<string, string> { ["z"] = "1", ["replicas"] = "3" } } };
        var same = a with { Action = a.Action with { Parameters = new Dictionary<string, string> { ["replicas"] = "3", ["z"] = "1" } } };

        string Hash(SubmitProposal p, string agent) => new ProposalContent(p.Action, p.Targets, p.Environment, p.Change, agent).Hash();

        Assert.Equal(Hash(reordered, "agent-a"), Hash(same, "agent-a"));
        Assert.NotEqual(Hash(a, "agent-a"), Hash(a, "agent-b"));
        Assert.NotEqual(Hash(a, "agent-a"), Hash(a with { Environment = "staging" }, "agent-a"));
        Assert.StartsWith("sha256:", Hash(a, "agent-a"), StringComparison.Ordinal);
    }
}
