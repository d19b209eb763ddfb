namespace ControlPlane.Contracts;

/// <summary>The lifecycle of a governed action (DESIGN.md). Kebab-case on the wire: "awaiting-approval".</summary>
public enum ProposalState
{
    Submitted,
    Assessing,
    AwaitingApproval,
    Authorized,
    Validating,
    Scheduled,
    Executing,
    Verifying,
    Completed,
    Denied,
    Rejected,
    Expired,
    Failed,
    Cancelled,
}

public enum DecisionOutcome
{
    Allow,
    RequireApproval,
    Deny,
}

public enum ApprovalDecision
{
    Approve,
    Reject,
}
