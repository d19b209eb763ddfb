using ControlPlane.Contracts;

namespace ControlPlane.Client;

/// <summary>What to propose. IdempotencyKey: the same key and body is the same proposal (null: a new key per call).</summary>
public sealed record ProposalRequest(
    string Kind,
    string Summary,
    IReadOnlyList<string> Targets,
    string Environment,
    ChangeReference Change,
    IReadOnlyDictionary<string, string>? Parameters = null,
    string? IdempotencyKey = null)
{
    public SubmitProposal ToMessage(string idempotencyKey) =>
        new(idempotencyKey, new ProposedAction(Kind, Summary, Parameters ?? new Dictionary<string, string>()), Targets, Environment, Change);
}

/// <summary>The 202 of a submission: the proposal, its state, whether the key had been seen (Duplicate), and the key used.</summary>
public sealed record Submission(Guid Id, ProposalState State, bool Duplicate, string IdempotencyKey);

/// <summary>GET /proposals/{id}: the governed action as the agent may see it (the fields an agent acts on).</summary>
public sealed record Proposal(
    Guid Id,
    ProposalState State,
    long Version,
    string AgentId,
    string IdempotencyKey,
    ProposedAction Action,
    IReadOnlyList<string> Targets,
    string Environment,
    ChangeReference Change,
    string ContentHash,
    ImpactReport? Impact,
    PolicyDecision? Decision,
    string? WaitingReason,
    DateTimeOffset SubmittedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>No further state follows.</summary>
    public bool IsFinished => State is ProposalState.Completed or ProposalState.Denied or ProposalState.Rejected or ProposalState.Expired
        or ProposalState.Failed or ProposalState.Cancelled;
}
