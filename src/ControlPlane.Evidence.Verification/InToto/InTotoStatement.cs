using System.Text.Json.Serialization;

namespace ControlPlane.Evidence.Verification.InToto;

/// <summary>
/// The names of ControlPlane's in-toto attestations: in-toto Statement v1 (https://in-toto.io/Statement/v1) in a
/// DSSE envelope (payload type application/vnd.in-toto+json), one envelope per line of an attestation bundle (JSON
/// Lines, suffix .intoto.jsonl). The predicate types are ControlPlane's own URIs; their fields are the records below.
/// </summary>
public static class InTotoFormat
{
    public const string StatementType = "https://in-toto.io/Statement/v1";

    /// <summary>DSSE payloadType in-toto prescribes for a JSON statement.</summary>
    public const string PayloadType = "application/vnd.in-toto+json";

    /// <summary>
    /// Media type of an attestation bundle as evidence serves it: JSON Lines. The in-toto bundle spec names the format
    /// and the .intoto.jsonl suffix but registers no media type.
    /// </summary>
    public const string BundleMediaType = "application/jsonl";

    public const string BundleSuffix = ".intoto.jsonl";

    public const string PolicyDecisionPredicate = "https://controlplane.dev/attestations/policy-decision/v1";
    public const string ApprovalPredicate = "https://controlplane.dev/attestations/approval/v1";
    public const string RunnerResultPredicate = "https://controlplane.dev/attestations/runner-result/v1";

    public static readonly IReadOnlySet<string> PredicateTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        PolicyDecisionPredicate, ApprovalPredicate, RunnerResultPredicate,
    };

    /// <summary>The subject name of a proposal's statements: "proposal/" and its id (lowercase 8-4-4-4-12).</summary>
    public static string SubjectName(string proposalId) => "proposal/" + proposalId;
}

/// <summary>
/// An in-toto Statement v1. Predicate is one of the predicate records below. Statements are signed as canonical JSON
/// (keys sorted, nulls left out), so the optional members of a predicate are the last, defaulted ones.
/// </summary>
public sealed record InTotoStatement(
    [property: JsonPropertyName("_type")] string Type,
    IReadOnlyList<InTotoSubject> Subject,
    string PredicateType,
    object Predicate);

/// <summary>An in-toto ResourceDescriptor with what a proposal needs: its name and digest set ({"sha256": hex}).</summary>
public sealed record InTotoSubject(string Name, IReadOnlyDictionary<string, string> Digest);

/// <summary>
/// The evidence record a statement attests, so a verifier can find it in the transparency log: its sequence, its
/// leaf index (sequence − 1) and RFC 9162 leaf hash (base64, as GET /evidence/proofs/inclusion serves it) in the log
/// named by Log (the checkpoint origin), and the record's id, kind and hash (as a bundle carries the record).
/// </summary>
public sealed record AttestedRecord(string Log, long Sequence, long LeafIndex, string LeafHash, string RecordId, string Kind, string RecordHash);

/// <summary>
/// https://controlplane.dev/attestations/policy-decision/v1: the policy's verdict on the proposal (PolicyDecided).
/// ExpiresAfter of the approval requirement is an ISO 8601 duration; Validations and Verifications name the steps.
/// </summary>
public sealed record PolicyDecisionAttestation(
    string Outcome,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<string> RulesFired,
    PolicyBundleReference Policy,
    long GraphVersion,
    IReadOnlyList<string> Validations,
    IReadOnlyList<string> Verifications,
    string DecidedAt,
    AttestedRecord Evidence,
    RequiredApproval? Approval = null);

public sealed record PolicyBundleReference(string BundleHash, string BundleVersion);

public sealed record RequiredApproval(int Count, IReadOnlyList<string> Roles, string ExpiresAfter, bool ChangeRequest);

/// <summary>
/// https://controlplane.dev/attestations/approval/v1: a named human's decision (ApprovalRecorded) and what it pinned:
/// the proposal hash, impact (graph) version, policy hash and validation-plan digest. The comment is never carried,
/// only whether there was one: a comment is free text that may be redacted from readers, and a plain digest of
/// short text could be guessed.
/// </summary>
public sealed record ApprovalAttestation(
    string ApproverId,
    string ApproverName,
    string Decision,
    string ProposalHash,
    long GraphVersion,
    string PolicyHash,
    bool HasComment,
    string At,
    AttestedRecord Evidence,
    string? PlanHash = null);

/// <summary>
/// https://controlplane.dev/attestations/runner-result/v1: a step's result (WorkCompleted). SignedResult names the
/// runner's own DSSE-signed result (its payload type, key id and the SHA-256 of its payload, as validation verdicts
/// cite it); ExitCode, Duration (ISO 8601) and OutputDigest come from that signed result. Evidence attests what it
/// recorded: the runner's signature itself is checked by `controlplane evidence verify` on the evidence bundle.
/// Command output is never carried, only the runner's digest of it. A step that could not be placed has no
/// signed result and a null RunnerId.
/// </summary>
public sealed record RunnerResultAttestation(
    string WorkId,
    string Step,
    string Outcome,
    string At,
    AttestedRecord Evidence,
    string? RunnerId = null,
    int? ExitCode = null,
    string? Duration = null,
    string? OutputDigest = null,
    SignedResultReference? SignedResult = null);

public sealed record SignedResultReference(string PayloadType, string KeyId, string PayloadDigest);
