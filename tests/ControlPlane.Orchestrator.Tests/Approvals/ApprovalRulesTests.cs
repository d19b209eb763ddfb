using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Approvals;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Orchestrator.Tests.Approvals;

public sealed class ApprovalRulesTests
{
    internal static ProposalRecord Proposal(ProposalState state = ProposalState.AwaitingApproval, int count = 1, string[]? roles = null) => new(
        Guid.NewGuid(), "remediation-agent", "sam@example.com", "remediation", "k", "sha256:aa",
        new ProposedAction("restart", "s", new Dictionary<string, string>()), ["billing"], "production",
        new ChangeReference("sha256:bb", "ref", null), state, 3,
        new ImpactReport(7, ["billing"], [], 0, ["pci"], true, false, ["payments"], [], [], DateTimeOffset.UnixEpoch),
        new PolicyDecision(DecisionOutcome.RequireApproval, ["revenue path"], ["prod-revenue"], "sha256:policy", "v1",
            new ApprovalRequirement(count, roles ?? ["approver"], TimeSpan.FromHours(1)), [], [], DateTimeOffset.UnixEpoch),
        7, DateTimeOffset.UnixEpoch, null, DateTimeOffset.UnixEpoch);

    internal static Caller Human(string id, params string[] bindings) => new(id, PrincipalKind.Human, id,
        bindings.Select(b => RoleBinding.TryParse(b, out var rb) ? rb : throw new ArgumentException(b)).ToList(), null, null);

    private static readonly ApprovalPins NoPins = new(null, null, null);

    [Fact]
    public void A_production_approver_may_approve()
    {
        Assert.Equal(ApprovalRules.Check(Human("alice", "approver@environment:production"), Proposal(), [], NoPins), ApprovalVerdict.Ok);
    }

    [Fact]
    public void Agents_never_approve_even_with_an_approver_binding()
    {
        var agent = new Caller("other-agent", PrincipalKind.Agent, "a", [new RoleBinding(Roles.Approver)], "x", "f");

        Assert.Equal(ApprovalVerdictKind.Forbidden, ApprovalRules.Check(agent, Proposal(), [], NoPins).Kind);
    }

    [Fact]
    public void The_sponsor_of_the_agent_cannot_approve()
    {
        var verdict = ApprovalRules.Check(Human("sam@example.com", "approver"), Proposal(), [], NoPins);

        Assert.Equal(ApprovalVerdictKind.Forbidden, verdict.Kind);
        Assert.Contains("sponsors", verdict.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("approver@environment:staging", ApprovalVerdictKind.Forbidden)]
    [InlineData("approver@node:billing", ApprovalVerdictKind.Accepted)]
    [InlineData("approver@node:checkout", ApprovalVerdictKind.Forbidden)]
    [InlineData("approver@team:payments", ApprovalVerdictKind.Accepted)]
    [InlineData("viewer", ApprovalVerdictKind.Forbidden)]
    [InlineData("operator", ApprovalVerdictKind.Forbidden)]
    public void The_binding_must_cover_the_proposal(string binding, ApprovalVerdictKind expected)
    {
        Assert.Equal(expected, ApprovalRules.Check(Human("h", binding), Proposal(), [], NoPins).Kind);
    }

    [Fact]
    public void One_of_the_required_roles_is_needed()
    {
        var admin = Human("root", "admin");

        Assert.Equal(ApprovalVerdictKind.Forbidden, ApprovalRules.Check(admin, Proposal(roles: ["approver"]), [], NoPins).Kind);
        Assert.Equal(ApprovalVerdictKind.Accepted, ApprovalRules.Check(admin, Proposal(roles: ["admin"]), [], NoPins).Kind);
    }

    [Fact]
    public void Only_proposals_awaiting_approval_take_decisions()
    {
        Assert.Equal(ApprovalVerdictKind.Conflict, ApprovalRules.Check(Human("alice", "approver"), Proposal(ProposalState.Authorized), [], NoPins).Kind);
    }

    [Fact]
    public void A_human_decides_once()
    {
        var p = Proposal(count: 2);
        var earlier = new ApprovalRecorded(p.Id, "alice", "alice", ApprovalDecision.Approve, null, p.ContentHash, 7, "sha256:policy", DateTimeOffset.UnixEpoch);

        Assert.Equal(ApprovalVerdictKind.Conflict, ApprovalRules.Check(Human("alice", "approver"), p, [earlier], NoPins).Kind);
        Assert.Equal(ApprovalVerdictKind.Accepted, ApprovalRules.Check(Human("bob", "approver"), p, [earlier], NoPins).Kind);
    }

    [Theory]
    [InlineData("sha256:aa", 7L, "sha256:policy", ApprovalVerdictKind.Accepted)]
    [InlineData("sha256:other", 7L, "sha256:policy", ApprovalVerdictKind.Conflict)]
    [InlineData("sha256:aa", 8L, "sha256:policy", ApprovalVerdictKind.Conflict)]
    [InlineData("sha256:aa", 7L, "sha256:newer", ApprovalVerdictKind.Conflict)]
    public void Pinned_values_must_still_be_current(string hash, long graph, string policy, ApprovalVerdictKind expected)
    {
        Assert.Equal(expected, ApprovalRules.Check(Human("alice", "approver"), Proposal(), [], new ApprovalPins(hash, graph, policy)).Kind);
    }

    [Fact]
    public void Drift_is_any_approval_pinning_something_else()
    {
        var p = Proposal();
        var good = new ApprovalRecorded(p.Id, "alice", "alice", ApprovalDecision.Approve, null, p.ContentHash, 7, "sha256:policy", DateTimeOffset.UnixEpoch);

        Assert.Empty(ApprovalRules.Drifted(p, [good]));
        Assert.Single(ApprovalRules.Drifted(p with { GraphVersion = 8 }, [good]));
        Assert.Single(ApprovalRules.Drifted(p with { Decision = p.Decision! with { BundleHash = "sha256:new" } }, [good]));
    }
}
