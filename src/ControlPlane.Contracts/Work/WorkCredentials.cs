namespace ControlPlane.Contracts;

/// <summary>
/// A value sealed to one recipient's ECDH P-256 key (<see cref="CredentialSeal"/>): the sender's ephemeral public
/// key (base64 DER SubjectPublicKeyInfo), the AES-GCM nonce and ciphertext with its tag appended (base64).
/// </summary>
public sealed record SealedCredential(string Algorithm, string EphemeralKey, string Nonce, string Ciphertext);

/// <summary>
/// The per-package target credential inside a signed <see cref="WorkPackage"/>: its id (jti) and expiry, sealed to the
/// runner; or, when fleet minted none (the runner registered no agreement key, the package names no target), why not.
/// </summary>
public sealed record PackageCredential(string? Jti, DateTimeOffset? ExpiresAt, SealedCredential? Sealed, string? Withheld);

/// <summary>
/// What a package credential grants, as evidence records it (never the token): its id, the runner holding it, where it
/// is valid (Audience: the package's target node ids), for which environment and action, and until when.
/// </summary>
public sealed record CredentialGrant(string Jti, string RunnerId, IReadOnlyList<string> Audience, string Environment, string Action, DateTimeOffset ExpiresAt);

/// <summary>Event (fleet): a short-lived credential for a package's targets was minted and sealed to its runner.</summary>
public sealed record WorkCredentialMinted(Guid ProposalId, Guid WorkId, CredentialGrant Grant, DateTimeOffset At);

/// <summary>Event (fleet): a package credential was revoked (result in, package expired, refused, withdrawn or re-offered).</summary>
public sealed record WorkCredentialRevoked(Guid ProposalId, Guid WorkId, CredentialGrant Grant, string Reason, DateTimeOffset At);

/// <summary>
/// The answer of POST /fleet/credentials/introspect (RFC 7662 shape): Active false and nothing else when the token is
/// revoked, expired, not fleet's, or not for the caller's audience.
/// </summary>
public sealed record CredentialIntrospection(
    bool Active,
    IReadOnlyList<string>? Aud = null,
    string? Env = null,
    string? Action = null,
    Guid? Package = null,
    long? Exp = null,
    string? Jti = null)
{
    public static readonly CredentialIntrospection Inactive = new(false);
}
