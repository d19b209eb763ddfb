using System.Text.Json.Nodes;

namespace ControlPlane.Contracts.Evidence;

/// <summary>
/// Everything needed to check one proposal's history offline (format <see cref="EvidenceFormat.BundleFormat"/>).
/// The summary sections (Proposal … Results) are conveniences for a reader; the verifier re-derives each of them
/// from Records and refuses a bundle whose summary says anything else. Keys are the SigningKeyPublished records
/// of every key a signature in the bundle names (fleet, runners, evidence). The checkpoint, signed by evidence,
/// pins the proposal's head record, the record count, the key records and the global chain head. Log, when present,
/// proves every record and key record to be a leaf of evidence's transparency log at a signed checkpoint.
/// Commitments lists every sensitive field the records hold as a salted hash (<see cref="FieldCommitment"/>), with
/// its value and salt when the reader may see them; null in bundles from before redaction.
/// </summary>
public sealed record EvidenceBundle(
    string Format,
    string ProposalId,
    JsonNode? Proposal,
    JsonNode? Impact,
    JsonNode? Decision,
    IReadOnlyList<JsonNode> Approvals,
    IReadOnlyList<BundleWorkPackage> WorkPackages,
    IReadOnlyList<BundleWorkResult> Results,
    IReadOnlyList<EvidenceRecord> Records,
    IReadOnlyList<BundleKey> Keys,
    BundleCheckpoint Checkpoint,
    BundleLog? Log = null,
    IReadOnlyList<BundleCommitment>? Commitments = null);

/// <summary>A work package as fleet signed it, from the WorkPackageIssued record at RecordSequence.</summary>
public sealed record BundleWorkPackage(long RecordSequence, string WorkId, string Step, string Fleet, string RunnerId, DsseEnvelope Envelope);

/// <summary>A runner's signed result, from the WorkCompleted record at RecordSequence.</summary>
public sealed record BundleWorkResult(long RecordSequence, string WorkId, string Step, string RunnerId, string Outcome, DsseEnvelope SignedResult);

/// <summary>A public key (base64 DER SubjectPublicKeyInfo, ECDSA P-256) and the evidence record that published it.</summary>
public sealed record BundleKey(string KeyId, string Owner, string OwnerKind, string PublicKey, EvidenceRecord Record);

/// <summary>The checkpoint statement in clear (for readers) and the DSSE envelope evidence signed over its canonical JSON.</summary>
public sealed record BundleCheckpoint(JsonNode Statement, DsseEnvelope Envelope);

/// <summary>What evidence vouches for when it signs a bundle (DSSE payload type <see cref="EvidenceFormat.CheckpointPayloadType"/>).</summary>
public sealed record CheckpointStatement(
    string Type,
    string ProposalId,
    long RecordCount,
    long HeadSequence,
    string HeadRecordHash,
    long GlobalSequence,
    string GlobalHeadHash,
    IReadOnlyList<CheckpointKey> Keys,
    string IssuedAt);

/// <summary>A key record the checkpoint covers.</summary>
public sealed record CheckpointKey(string KeyId, long Sequence, string RecordHash);

/// <summary>
/// The bundle's place in evidence's transparency log: a C2SP checkpoint (signed note: origin, tree size, RFC 9162
/// root) signed by the same evidence key, and for every record and key record its inclusion proof at that size.
/// </summary>
public sealed record BundleLog(string Checkpoint, IReadOnlyList<BundleInclusion> Inclusions);

/// <summary>The record with this sequence is leaf Sequence - 1; Proof is its RFC 9162 audit path, base64, leaf side first.</summary>
public sealed record BundleInclusion(long Sequence, IReadOnlyList<string> Proof);
