namespace ControlPlane.Contracts.Evidence;

/// <summary>GET /evidence/proposals/{id}: the records of one proposal in sequence order.</summary>
public sealed record ProposalEvidence(string ProposalId, IReadOnlyList<EvidenceRecord> Records);

/// <summary>GET /evidence/records: one page in sequence order; Next is the "since" of the following page (null on the last).</summary>
public sealed record EvidencePage(IReadOnlyList<EvidenceRecord> Records, long? Next);

/// <summary>
/// GET /evidence/chain/verify: the whole global chain recomputed. When Ok is false, BrokenAt is the first
/// sequence that does not verify and Reason says why.
/// </summary>
public sealed record ChainVerification(bool Ok, long Records, long HeadSequence, string HeadHash, long? BrokenAt, string? Reason);

/// <summary>GET /evidence/keys: evidence's checkpoint keys (public halves), newest first.</summary>
public sealed record EvidenceKeySet(IReadOnlyList<EvidencePublicKey> Keys);

/// <summary>PublicKey is base64 DER SubjectPublicKeyInfo (ECDSA P-256); Fingerprint is what `evidence verify --trust` pins.</summary>
public sealed record EvidencePublicKey(string KeyId, string Algorithm, string PublicKey, string Fingerprint, string CreatedAt);
