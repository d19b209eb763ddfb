using System.Text.Json.Serialization;

namespace ControlPlane.Contracts;

/// <summary>What the agent wants done: an action kind ("restart", "deploy", "rollback", "run-tests", …), a
/// one-line summary for humans, and string parameters (never a command line: runners map kinds to handlers).</summary>
public sealed record ProposedAction(string Kind, string Summary, IReadOnlyDictionary<string, string> Parameters);

/// <summary>
/// The change the action applies: a content digest, where to find it, and how to undo it. Repository
/// ("owner/name") and Commit (the full SHA), both or neither, name the source commit: orchestrator then reports the
/// proposal's progress on that commit as a GitHub commit status.
/// </summary>
public sealed record ChangeReference(string Digest, string Reference, string? RollbackPlan, string? Repository = null, string? Commit = null);

/// <summary>
/// Command: an agent asks for an action. Sent on the bus by agent fleets (agent token in the
/// <see cref="MessageHeaders.AgentToken"/> header) or POSTed to orchestrator /proposals. Same validation and
/// idempotency either way.
/// </summary>
public sealed record SubmitProposal(
    string IdempotencyKey,
    ProposedAction Action,
    IReadOnlyList<string> Targets,
    string Environment,
    ChangeReference Change);

/// <summary>Reply to a bus <see cref="SubmitProposal"/> that was accepted (or recognised as a repeat).</summary>
public sealed record ProposalAccepted(Guid ProposalId, string IdempotencyKey, ProposalState State, bool Duplicate);

/// <summary>Event: orchestrator accepted a proposal. ContentHash is the canonical hash approvals pin.</summary>
public sealed record ProposalSubmitted(
    Guid ProposalId,
    string ContentHash,
    string AgentId,
    string? SponsorId,
    string? Fleet,
    ProposedAction Action,
    IReadOnlyList<string> Targets,
    string Environment,
    ChangeReference Change,
    DateTimeOffset SubmittedAt);

/// <summary>Event: every lifecycle transition, with who or what caused it.</summary>
public sealed record ProposalStateChanged(
    Guid ProposalId,
    ProposalState From,
    ProposalState To,
    string Reason,
    string Actor,
    long Version,
    DateTimeOffset At);

/// <summary>Event: a transition was asked for that the lifecycle does not allow; recorded, never applied.</summary>
public sealed record ProposalTransitionRefused(
    Guid ProposalId,
    ProposalState State,
    string Trigger,
    string Reason,
    DateTimeOffset At);

/// <summary>Event: a named human approved or rejected, pinning exactly what they saw (PlanHash: the digest of the decision's validation plan, left out of the JSON when the decision has none).</summary>
public sealed record ApprovalRecorded(
    Guid ProposalId,
    string ApproverId,
    string ApproverName,
    ApprovalDecision Decision,
    string? Comment,
    string ProposalHash,
    long GraphVersion,
    string PolicyHash,
    DateTimeOffset At,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PlanHash = null);

/// <summary>Event: a submission (HTTP or bus) was refused before it became a proposal: bad token, bad body, key conflict.</summary>
public sealed record ProposalSubmissionRefused(string? IdempotencyKey, string? AgentId, string Channel, string Reason, DateTimeOffset At);

public static class MessageHeaders
{
    /// <summary>The agent's bearer token on a bus command; validated exactly like the HTTP Authorization header.</summary>
    public const string AgentToken = "controlplane-agent-token";
}
