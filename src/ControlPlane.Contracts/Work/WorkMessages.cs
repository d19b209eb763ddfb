namespace ControlPlane.Contracts;

/// <summary>Which part of the lifecycle a piece of work serves.</summary>
public enum WorkStep
{
    Validate,
    Execute,
    Verify,
    Rollback,
}

public enum WorkOutcome
{
    Succeeded,
    Failed,
    TimedOut,
    Refused,
}

/// <summary>
/// Command (orchestrator → fleet): turn this step into a signed work package for a runner of the named fleet
/// ("testing", "remediation", "observe"). FencingTokens holds the lease token per target (execute and rollback
/// steps); a runner refuses a token older than one it has seen for that target.
/// </summary>
public sealed record WorkRequested(
    Guid ProposalId,
    Guid WorkId,
    WorkStep Step,
    string Name,
    string Fleet,
    string ActionKind,
    IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyList<string> Targets,
    string Environment,
    string ContentHash,
    IReadOnlyDictionary<string, long> FencingTokens,
    TimeSpan Timeout,
    DateTimeOffset RequestedAt);

/// <summary>
/// The statement a work package envelope carries (DSSE payload, <see cref="PayloadType"/>). Credential: the target
/// credential sealed to the runner (omitted from the JSON when null, so packages without one sign as before).
/// </summary>
public sealed record WorkPackage(
    Guid WorkId,
    Guid ProposalId,
    string ContentHash,
    WorkStep Step,
    string Name,
    string ActionKind,
    IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyList<string> Targets,
    string Environment,
    IReadOnlyDictionary<string, long> FencingTokens,
    DateTimeOffset NotBefore,
    DateTimeOffset ExpiresAt,
    string Nonce,
    string Audience,
    string Fleet,
    string Issuer,
    PackageCredential? Credential = null)
{
    public const string PayloadType = "application/vnd.controlplane.work-package+json";
}

/// <summary>What a runner reports (DSSE payload signed with the runner's own key, <see cref="PayloadType"/>).</summary>
public sealed record WorkResult(
    Guid WorkId,
    Guid ProposalId,
    WorkStep Step,
    string RunnerId,
    WorkOutcome Outcome,
    int? ExitCode,
    TimeSpan Duration,
    string OutputDigest,
    string? OutputExcerpt,
    string? Reason,
    DateTimeOffset CompletedAt)
{
    public const string PayloadType = "application/vnd.controlplane.work-result+json";
}

/// <summary>Event: fleet signed a package and handed it to a runner.</summary>
public sealed record WorkPackageIssued(
    Guid ProposalId,
    Guid WorkId,
    WorkStep Step,
    string Fleet,
    string RunnerId,
    DsseEnvelope Envelope,
    DateTimeOffset IssuedAt);

/// <summary>Event: a step finished (or could not be placed: Outcome Failed with a reason and no envelope).</summary>
public sealed record WorkCompleted(
    Guid ProposalId,
    Guid WorkId,
    WorkStep Step,
    string RunnerId,
    WorkOutcome Outcome,
    DsseEnvelope? SignedResult,
    string? Reason,
    DateTimeOffset At);

/// <summary>Event: a runner refused a package (bad signature, expired, replayed nonce, stale fence, no handler, other audience).</summary>
public sealed record WorkRefused(
    Guid? ProposalId,
    Guid? WorkId,
    string RunnerId,
    string Reason,
    DateTimeOffset At);
