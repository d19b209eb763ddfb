using ControlPlane.Identity.Principals;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Identity.Tests.Rules;

public sealed class AgentRulesTests
{
    private static readonly AgentRegistration Valid = new("deploy-bot", "Deploy bot", "sre.lead@example.com", "remediation", ["staging"], ["restart"], null);

    [Fact]
    public void A_complete_registration_is_valid() => Assert.Empty(AgentRules.Validate(Valid));

    [Fact]
    public void Every_missing_field_is_named()
    {
        var errors = AgentRules.Validate(new AgentRegistration(null, null, null, null, null, null, null));

        Assert.Equal(["actionKinds", "environments", "fleet", "id", "name", "sponsor"], errors.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("Deploy-Bot")]
    [InlineData("-leading-dash")]
    [InlineData("has space")]
    [InlineData("someone@example.com")]
    [InlineData("")]
    public void Agent_ids_are_lowercase_names_and_never_look_like_a_human(string id) =>
        Assert.Contains("id", AgentRules.Validate(Valid with { Id = id }).Keys);

    [Fact]
    public void Environments_must_be_names_without_repeats()
    {
        Assert.Contains("environments", AgentRules.Validate(Valid with { Environments = ["staging", "staging"] }).Keys);
        Assert.Contains("environments", AgentRules.Validate(Valid with { Environments = ["Prod Env"] }).Keys);
        Assert.Contains("environments", AgentRules.Validate(Valid with { Environments = [] }).Keys);
    }

    [Theory]
    [InlineData("proposer")]
    [InlineData("runner")]
    [InlineData("proposer@environment:staging")]
    public void A_fleet_admin_may_give_proposer_or_runner_at_registration(string binding) =>
        Assert.Empty(AgentRules.Validate(Valid with { Bindings = [binding] }));

    [Theory]
    [InlineData("admin")]
    [InlineData("approver@environment:production")]
    [InlineData("fleet-admin")]
    [InlineData("not-a-role")]
    public void Other_bindings_at_registration_are_refused(string binding) =>
        Assert.Contains("bindings", AgentRules.Validate(Valid with { Bindings = [binding] }).Keys);

    [Theory]
    [InlineData("approver", true)]
    [InlineData("approver@environment:production", true)]
    [InlineData("admin", true)]
    [InlineData("proposer", false)]
    [InlineData("viewer", false)]
    [InlineData("runner", false)]
    public void An_agent_never_holds_a_role_that_approves(string text, bool refused)
    {
        Assert.True(RoleBinding.TryParse(text, out var binding));
        Assert.Equal(refused, AgentRules.RefusalForAgent(binding) is not null);
    }
}
