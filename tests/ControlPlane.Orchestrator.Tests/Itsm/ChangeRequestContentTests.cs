using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Itsm;
using ControlPlane.Orchestrator.Tests.Approvals;

namespace ControlPlane.Orchestrator.Tests.Itsm;

public sealed class ChangeRequestContentTests
{
    [Theory]
    [InlineData(ProposalState.Submitted, null, null)]
    [InlineData(ProposalState.AwaitingApproval, null, null)]
    [InlineData(ProposalState.Authorized, "scheduled", "-2")]
    [InlineData(ProposalState.Scheduled, "scheduled", "-2")]
    [InlineData(ProposalState.Executing, "implement", "-1")]
    [InlineData(ProposalState.Verifying, "implement", "-1")]
    [InlineData(ProposalState.Completed, "closed-successful", "3")]
    [InlineData(ProposalState.Failed, "closed-unsuccessful", "3")]
    [InlineData(ProposalState.Rejected, "canceled", "4")]
    [InlineData(ProposalState.Expired, "canceled", "4")]
    [InlineData(ProposalState.Cancelled, "canceled", "4")]
    public void Each_proposal_state_has_its_change_state(ProposalState state, string? key, string? snowState)
    {
        var target = ChangeRequestContent.Target(state);

        Assert.Equal(key, target?.Key);
        Assert.Equal(snowState, target?.Fields["state"]);
    }

    [Fact]
    public void Closing_names_the_close_code_the_change_model_requires()
    {
        Assert.Equal("successful", ChangeRequestContent.Target(ProposalState.Completed)!.Value.Fields["close_code"]);
        Assert.Equal("unsuccessful", ChangeRequestContent.Target(ProposalState.Failed)!.Value.Fields["close_code"]);
    }

    [Fact]
    public void Impact_follows_the_blast_radius()
    {
        ImpactReport Impact(int? tier, bool revenue, string[] classes, bool exposed) => new(1, ["a"], [], tier, classes, revenue, exposed, [], [], [], DateTimeOffset.UnixEpoch);

        Assert.Equal("1", ChangeRequestContent.Impact(Impact(3, true, [], false)));
        Assert.Equal("1", ChangeRequestContent.Impact(Impact(3, false, [], true)));
        Assert.Equal("1", ChangeRequestContent.Impact(Impact(0, false, [], false)));
        Assert.Equal("2", ChangeRequestContent.Impact(Impact(3, false, ["pci"], false)));
        Assert.Equal("2", ChangeRequestContent.Impact(Impact(2, false, [], false)));
        Assert.Equal("3", ChangeRequestContent.Impact(Impact(3, false, [], false)));
        Assert.Equal("3", ChangeRequestContent.Impact(Impact(null, false, [], false)));
    }

    [Fact]
    public void Only_proposals_that_need_approval_get_a_change_and_only_a_policy_flag_makes_it_mandatory()
    {
        var proposal = ApprovalRulesTests.Proposal();
        Assert.True(ChangeRequestContent.Wanted(proposal));
        Assert.False(ChangeRequestContent.Mandatory(proposal));
        var mandatory = proposal with { Decision = proposal.Decision! with { Approval = proposal.Decision.Approval! with { ChangeRequest = true } } };
        Assert.True(ChangeRequestContent.Mandatory(mandatory));
        Assert.False(ChangeRequestContent.Wanted(proposal with { Decision = proposal.Decision! with { Outcome = DecisionOutcome.Allow, Approval = null } }));
    }

    [Fact]
    public void A_long_summary_is_cut_to_the_field_length()
    {
        var proposal = ApprovalRulesTests.Proposal();
        proposal = proposal with { Action = proposal.Action with { Summary = new string('x', 300) } };

        var fields = ChangeRequestContent.Create(proposal, "CAB");

        Assert.Equal(ChangeRequestContent.ShortDescriptionLimit, fields["short_description"].Length);
        Assert.Equal("CAB", fields["assignment_group"]);
        Assert.Equal(proposal.Id.ToString(), fields["correlation_id"]);
    }

    [Fact]
    public void Approvers_map_by_email_first_then_by_user_name()
    {
        DirectoryHuman[] humans =
        [
            new("alice@example.com", "Alice", "alice@example.com", ["approver@environment:production"], true),
            new("bob", "Bob", "bob@corp.example", ["approver"], true),
        ];

        Assert.Equal("alice@example.com", ApproverDirectory.Match(humans, "someone-else", "ALICE@example.com")?.Id);
        Assert.Equal("bob", ApproverDirectory.Match(humans, "x", "bob@corp.example")?.Id);
        Assert.Equal("bob", ApproverDirectory.Match(humans, "bob", "unknown@corp.example")?.Id);
        Assert.Null(ApproverDirectory.Match(humans, "mallory", "mallory@corp.example"));
        Assert.Null(ApproverDirectory.Match(humans, null, null));
    }
}
