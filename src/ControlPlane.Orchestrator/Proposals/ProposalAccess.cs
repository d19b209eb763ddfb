using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Orchestrator.Proposals;

/// <summary>
/// Object-level rules (OWASP API1) on top of the endpoint permissions: the proposer role reads and cancels only
/// the agent's own proposals; every other role acts inside the scope of its binding.
/// </summary>
public static class ProposalAccess
{
    /// <summary>An agent reads its own proposals; anyone else (or an agent reading others') needs a non-proposer binding covering the proposal.</summary>
    public static bool CanRead(Caller caller, ProposalRecord proposal)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(proposal);
        return IsProposer(caller, proposal) || HasBeyondProposer(caller, Permissions.ProposalsRead, proposal);
    }

    /// <summary>The proposing agent itself, or a human whose binding (operator, admin) grants cancel over the proposal.</summary>
    public static bool CanCancel(Caller caller, ProposalRecord proposal)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(proposal);
        return IsProposer(caller, proposal) ||
            (caller.Kind == PrincipalKind.Human && HasBeyondProposer(caller, Permissions.ProposalsCancel, proposal));
    }

    /// <summary>Whether the caller reads every proposal matching a filter without per-row checks (a global non-proposer binding).</summary>
    public static bool ReadsEverything(Caller caller) =>
        caller.Bindings.Any(b => b.Role != Roles.Proposer && b.Scope == ScopeKind.Global && Permissions.Grants(b.Role, Permissions.ProposalsRead));

    public static bool IsProposer(Caller caller, ProposalRecord proposal) =>
        string.Equals(caller.Id, proposal.AgentId, StringComparison.Ordinal);

    private static bool HasBeyondProposer(Caller caller, string permission, ProposalRecord proposal) =>
        caller.Bindings.Any(b => b.Role != Roles.Proposer && Permissions.Grants(b.Role, permission) &&
            b.Covers(proposal.Environment, proposal.Targets.ToArray(), proposal.Teams.ToArray()));
}
