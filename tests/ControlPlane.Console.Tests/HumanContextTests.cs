using System.Text.Json.Nodes;
using ControlPlane.Console.Plane;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Console.Tests;

/// <summary>Which proposals the inbox offers a human: orchestrator's approval rule, read from the id_token's bindings.</summary>
public sealed class HumanContextTests
{
    private static JsonNode Waiting(string environment = "production", string? sponsor = "sre.lead@example.com") => JsonNode.Parse($$"""
        { "id": "{{Guid.NewGuid()}}", "state": "awaiting-approval", "agentId": "remediation-agent", "sponsorId": {{(sponsor is null ? "null" : $"\"{sponsor}\"")}},
          "environment": "{{environment}}", "targets": ["billing"], "impact": { "teams": ["payments"] },
          "approvalStatus": { "roles": ["approver"] }, "approvals": [] }
        """)!;

    private static Caller Human(string id, params string[] bindings) =>
        new(id, PrincipalKind.Human, id, [.. bindings.Select(b => RoleBinding.TryParse(b, out var r) ? r : throw new ArgumentException(b))], null, null);

    [Fact]
    public void A_production_approver_may_decide_a_production_proposal() =>
        Assert.True(HumanContext.MayDecide(Human("priya", "approver@environment:production"), Waiting()));

    [Theory]
    [InlineData("viewer")]
    [InlineData("auditor")]
    [InlineData("approver@environment:staging")]
    public void Others_may_not(string binding) =>
        Assert.False(HumanContext.MayDecide(Human("someone", binding), Waiting()));

    [Fact]
    public void The_agents_sponsor_may_not_even_with_an_approver_binding() =>
        Assert.False(HumanContext.MayDecide(Human("sre.lead@example.com", "approver"), Waiting()));

    [Fact]
    public void Nobody_decides_twice_or_on_a_proposal_no_longer_waiting()
    {
        var decided = Waiting();
        decided["approvals"]!.AsArray().Add(JsonNode.Parse("""{ "approverId": "priya" }"""));
        Assert.False(HumanContext.MayDecide(Human("priya", "approver"), decided));

        var completed = Waiting();
        completed["state"] = "completed";
        Assert.False(HumanContext.MayDecide(Human("priya", "approver"), completed));
    }
}
