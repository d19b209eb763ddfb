namespace ControlPlane.Contracts;

/// <summary>How far a runner got with a package before its result.</summary>
public enum WorkAckStage
{
    /// <summary>The package verified and the runner will run it (fleet confirms it is still the current offer).</summary>
    Accepted,

    /// <summary>The runner started the action: from here the change may be (partly) applied.</summary>
    Started,
}

/// <summary>
/// What a runner signs (DSSE, <see cref="PayloadType"/>, the runner's own key) when it accepts and when it starts a
/// package. Nonce names the exact package issue, so an acknowledgement of a superseded offer cannot count for a newer one.
/// HTTP: POST /fleet/work/{workId}/ack with the envelope.
/// </summary>
public sealed record WorkAck(Guid WorkId, Guid ProposalId, WorkStep Step, string RunnerId, string Nonce, WorkAckStage Stage, DateTimeOffset At)
{
    public const string PayloadType = "application/vnd.controlplane.work-ack+json";
}

/// <summary>Event (fleet): a runner acknowledged a package it holds; SignedAck is the runner's envelope over a <see cref="WorkAck"/>.</summary>
public sealed record WorkAcknowledged(Guid ProposalId, Guid WorkId, WorkStep Step, string RunnerId, WorkAckStage Stage, DsseEnvelope SignedAck, DateTimeOffset At);

/// <summary>
/// Command (orchestrator → fleet): this work was superseded by a re-offer or abandoned; fleet issues it no more
/// and records a late result of it as <see cref="WorkResultSuperseded"/>.
/// </summary>
public sealed record WorkWithdrawn(Guid ProposalId, Guid WorkId, string Reason, DateTimeOffset At);

/// <summary>Event: a result arrived for work that was superseded or withdrawn: kept as evidence, not as a second outcome.</summary>
public sealed record WorkResultSuperseded(Guid ProposalId, Guid WorkId, string RunnerId, WorkOutcome Outcome, DsseEnvelope? SignedResult, string Reason,
    DateTimeOffset At);
