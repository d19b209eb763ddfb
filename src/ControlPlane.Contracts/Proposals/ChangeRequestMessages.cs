namespace ControlPlane.Contracts;

/// <summary>Event: a proposal is linked to a change request in an ITSM system (ServiceNow): what a reviewer opens.</summary>
public sealed record ChangeRequestLinked(Guid ProposalId, string System, string Number, string SysId, string Url, DateTimeOffset At);

/// <summary>
/// Event: a decision taken in an ITSM system did not count for the proposal (approver not mapped to a named human,
/// no approver binding, separation of duties, …); the reason says which rule refused it.
/// </summary>
public sealed record ExternalApprovalIgnored(Guid ProposalId, string System, string Reference, string ExternalUser, string Decision, string Reason,
    DateTimeOffset At);
