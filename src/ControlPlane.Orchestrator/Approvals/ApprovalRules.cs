using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Orchestrator.Approvals;

/// <summary>Why an approval was turned down, in HTTP terms.</summary>
public enum ApprovalVerdictKind
{
    Accepted,
    Forbidden,
    Conflict,
}

public sealed record ApprovalVerdict(ApprovalVerdictKind Kind, string? Reason)
{
    public static readonly ApprovalVerdict Ok = new(ApprovalVerdictKind.Accepted, null);
}

/// <summary>What the approver says they looked at; any pinned value that differs from now is a conflict. PlanHash: the validation plan's digest.</summary>
public sealed record ApprovalPins(string? ProposalHash, long? GraphVersion, string? PolicyHash, string? PlanHash = null);

/// <summary>
/// Separation of duties and scope for one human decision, without I/O: only humans; never the proposing agent
/// or its sponsor; a binding that grants approval over the proposal's environment, nodes or teams; one of the
/// roles the decision requires; one decision per human; and only what the human actually saw.
/// </summary>
public static class ApprovalRules
{
    public const string DefaultRole = Roles.Approver;

    public static int RequiredCount(PolicyDecision? decision) => Math.Max(1, decision?.Approval?.Count ?? 1);

    public static IReadOnlyList<string> RequiredRoles(PolicyDecision? decision) =>
        decision?.Approval?.Roles is { Count: > 0 } roles ? roles : [DefaultRole];

    public static ApprovalVerdict Check(Caller caller, ProposalRecord proposal, IReadOnlyList<ApprovalRecorded> existing, ApprovalPins pins)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(proposal);
        ArgumentNullException.ThrowIfNull(existing);
        ArgumentNullException.ThrowIfNull(pins);
        if (caller.Kind != PrincipalKind.Human)
        {
            return Forbidden("Agents can never approve; only named humans authorize.");
        }

        if (string.Equals(caller.Id, proposal.AgentId, StringComparison.Ordinal))
        {
            return Forbidden("Nobody approves their own proposal.");
        }

        if (proposal.SponsorId is not null && string.Equals(caller.Id, proposal.SponsorId, StringComparison.Ordinal))
        {
            return Forbidden($"{caller.Id} sponsors the proposing agent {proposal.AgentId} and cannot approve its proposals.");
        }

        var nodes = proposal.Targets.ToArray();
        var teams = proposal.Teams.ToArray();
        if (!caller.HasPermission(Permissions.ProposalsApprove, proposal.Environment, nodes, teams))
        {
            return Forbidden($"No approver binding of {caller.Id} covers environment '{proposal.Environment}' and these targets.");
        }

        var roles = RequiredRoles(proposal.Decision);
        if (!caller.Bindings.Any(b => roles.Contains(b.Role, StringComparer.Ordinal) && b.Covers(proposal.Environment, nodes, teams)))
        {
            return Forbidden($"The decision requires one of the roles {string.Join(", ", roles)} in scope of the proposal.");
        }

        if (proposal.State != ProposalState.AwaitingApproval)
        {
            return Conflict($"The proposal is {StateNamesText(proposal.State)}, not awaiting approval.");
        }

        if (existing.Any(a => string.Equals(a.ApproverId, caller.Id, StringComparison.Ordinal)))
        {
            return Conflict($"{caller.Id} already decided on this proposal; a human counts once.");
        }

        var current = Current(proposal);
        if ((pins.ProposalHash is not null && !string.Equals(pins.ProposalHash, current.ProposalHash, StringComparison.Ordinal)) ||
            (pins.GraphVersion is not null && pins.GraphVersion != current.GraphVersion) ||
            (pins.PolicyHash is not null && !string.Equals(pins.PolicyHash, current.PolicyHash, StringComparison.Ordinal)) ||
            (pins.PlanHash is not null && !string.Equals(pins.PlanHash, current.PlanHash, StringComparison.Ordinal)))
        {
            return Conflict("The proposal changed since you looked: the pinned proposal hash, graph version, policy hash or validation plan differ from the current ones.");
        }

        return ApprovalVerdict.Ok;
    }

    /// <summary>
    /// What an approval pins now: the content hash, the impact's graph version, the deciding bundle's hash and the digest
    /// of the decision's validation plan (null without a plan).
    /// </summary>
    public static (string ProposalHash, long GraphVersion, string PolicyHash, string? PlanHash) Current(ProposalRecord proposal)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        return (proposal.ContentHash, proposal.GraphVersion ?? proposal.Impact?.GraphVersion ?? 0, proposal.Decision?.BundleHash ?? string.Empty,
            Lifecycle.CheckGate.PlanHash(proposal.Decision));
    }

    /// <summary>The approvals whose pins no longer match the proposal (execution refuses when any exists).</summary>
    public static IReadOnlyList<ApprovalRecorded> Drifted(ProposalRecord proposal, IReadOnlyList<ApprovalRecorded> approvals)
    {
        var current = Current(proposal);
        return approvals.Where(a => a.Decision == ApprovalDecision.Approve && (
            !string.Equals(a.ProposalHash, current.ProposalHash, StringComparison.Ordinal) ||
            a.GraphVersion != current.GraphVersion ||
            !string.Equals(a.PolicyHash, current.PolicyHash, StringComparison.Ordinal) ||
            !string.Equals(a.PlanHash, current.PlanHash, StringComparison.Ordinal))).ToList();
    }

    private static ApprovalVerdict Forbidden(string reason) => new(ApprovalVerdictKind.Forbidden, reason);

    private static ApprovalVerdict Conflict(string reason) => new(ApprovalVerdictKind.Conflict, reason);

    private static string StateNamesText(ProposalState state) => Lifecycle.ProposalStateMachine.Name(state);
}
