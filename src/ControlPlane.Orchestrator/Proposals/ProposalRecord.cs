using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Lifecycle;

namespace ControlPlane.Orchestrator.Proposals;

/// <summary>A proposal as stored: what the agent asked for, who asked, what the plane learned, where it stands.</summary>
public sealed record ProposalRecord(
    Guid Id,
    string AgentId,
    string? SponsorId,
    string? AgentFleet,
    string IdempotencyKey,
    string ContentHash,
    ProposedAction Action,
    IReadOnlyList<string> Targets,
    string Environment,
    ChangeReference Change,
    ProposalState State,
    long Version,
    ImpactReport? Impact,
    PolicyDecision? Decision,
    long? GraphVersion,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? AuthorizedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>The traceparent the proposal was submitted under; its later steps continue that trace.</summary>
    public string? TraceParent { get; init; }

    /// <summary>Owner teams of everything the change touches, as system-graph reported them (scopes team bindings).</summary>
    public IReadOnlyList<string> Teams => Impact?.Teams ?? [];

    public ProposalFacts Facts => new(
        Decision?.Validations is { Count: > 0 },
        Decision?.Verifications is { Count: > 0 },
        !string.IsNullOrWhiteSpace(Change.RollbackPlan));

    public ProposalSubmitted ToSubmitted() =>
        new(Id, ContentHash, AgentId, SponsorId, AgentFleet, Action, Targets, Environment, Change, SubmittedAt);
}

/// <summary>What the content hash covers: everything the agent asked for, and who asked. Approvals pin this hash.</summary>
public sealed record ProposalContent(ProposedAction Action, IReadOnlyList<string> Targets, string Environment, ChangeReference Change, string Agent)
{
    public string Hash() => CanonicalJson.Hash(this);
}
