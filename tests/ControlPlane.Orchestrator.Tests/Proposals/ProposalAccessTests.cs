using ControlPlane.Orchestrator.Proposals;
using ControlPlane.Orchestrator.Tests.Approvals;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Orchestrator.Tests.Proposals;

public sealed class ProposalAccessTests
{
    private static Caller Agent(string id, params string[] roles) =>
        new(id, PrincipalKind.Agent, id, roles.Select(r => RoleBinding.TryParse(r, out var b) ? b : throw new ArgumentException(r)).ToList(), "sam", "f");

    [Fact]
    public void A_proposer_reads_and_cancels_only_its_own()
    {
        var p = ApprovalRulesTests.Proposal();

        Assert.True(ProposalAccess.CanRead(Agent("remediation-agent", "proposer"), p));
        Assert.True(ProposalAccess.CanCancel(Agent("remediation-agent", "proposer"), p));
        Assert.False(ProposalAccess.CanRead(Agent("testing-agent", "proposer"), p));
        Assert.False(ProposalAccess.CanCancel(Agent("testing-agent", "proposer"), p));
    }

    [Fact]
    public void An_agent_with_viewer_reads_others_but_cannot_cancel_them()
    {
        var p = ApprovalRulesTests.Proposal();

        Assert.True(ProposalAccess.CanRead(Agent("watcher", "proposer", "viewer"), p));
        Assert.False(ProposalAccess.CanCancel(Agent("watcher", "proposer", "operator"), p));
    }

    [Theory]
    [InlineData("viewer", true, false)]
    [InlineData("viewer@environment:staging", false, false)]
    [InlineData("approver@environment:production", true, false)]
    [InlineData("operator", true, true)]
    [InlineData("operator@environment:staging", false, false)]
    [InlineData("operator@team:payments", true, true)]
    [InlineData("proposer", false, false)]
    public void Humans_act_inside_their_binding(string binding, bool read, bool cancel)
    {
        var p = ApprovalRulesTests.Proposal();
        var human = ApprovalRulesTests.Human("h", binding);

        Assert.Equal(read, ProposalAccess.CanRead(human, p));
        Assert.Equal(cancel, ProposalAccess.CanCancel(human, p));
    }
}
