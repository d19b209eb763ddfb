using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using static ControlPlane.Policy.Tests.Bundles.Facts;

namespace ControlPlane.Policy.Tests.Bundles;

/// <summary><c>approval.change-request: required</c>: the ITSM change request becomes a precondition of execution.</summary>
public sealed class ChangeRequestObligationTests
{
    private static string Bundle(string revenueApproval) => $$"""
        rules:
          - id: allow-all
            outcome: allow
          - id: approve-revenue
            match: { impact: { revenue-path: true } }
            outcome: require-approval
            approval: {{revenueApproval}}
          - id: approve-production
            match: { environments: [production] }
            outcome: require-approval
            approval: { count: 1, roles: [approver], expiry: 8h }
        """;

    [Fact]
    public void A_required_change_request_is_an_output_of_the_decision_whichever_rule_asks_for_it()
    {
        var decision = Decide(Bundle("{ count: 1, roles: [approver], expiry: 4h, change-request: required }"), Billing());

        Assert.Equal(DecisionOutcome.RequireApproval, decision.Outcome);
        Assert.True(decision.Approval!.ChangeRequest);
        Assert.Equal(TimeSpan.FromHours(4), decision.Approval.ExpiresAfter);
    }

    [Theory]
    [InlineData("{ count: 1, roles: [approver], expiry: 4h }")]
    [InlineData("{ count: 1, roles: [approver], expiry: 4h, change-request: optional }")]
    public void Without_it_the_change_request_is_optional(string approval)
    {
        Assert.False(Decide(Bundle(approval), Billing()).Approval!.ChangeRequest);
    }

    [Fact]
    public void Another_value_is_an_error_naming_the_field()
    {
        var result = BundleParser.Parse(Bundle("{ count: 1, roles: [approver], expiry: 4h, change-request: maybe }"));

        var error = Assert.Single(result.Errors);
        Assert.Equal("$.rules[1].approval.change-request", error.Path);
        Assert.Contains("must be required or optional", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bundles_without_the_key_keep_their_hash()
    {
        var without = Compile(Bundle("{ count: 1, roles: [approver], expiry: 4h }"));
        var optional = Compile(Bundle("{ count: 1, roles: [approver], expiry: 4h, change-request: optional }"));
        var required = Compile(Bundle("{ count: 1, roles: [approver], expiry: 4h, change-request: required }"));

        Assert.Equal(without.Hash, optional.Hash);
        Assert.NotEqual(without.Hash, required.Hash);
        Assert.DoesNotContain("changeRequest", CanonicalJson.ToText(without.Bundle), StringComparison.Ordinal);
    }
}
