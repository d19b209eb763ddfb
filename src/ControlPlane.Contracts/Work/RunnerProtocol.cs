namespace ControlPlane.Contracts;

/// <summary>
/// HTTP body of POST /fleet/runners: a runner announces itself, what it can run (action kinds) and its result
/// signing key (base64 DER SubjectPublicKeyInfo of an ECDSA P-256 key; KeyId its <see cref="SigningKeyIds"/> thumbprint).
/// Registering again with another key rotates the runner's key. AgreementKey (optional): a separate ECDH P-256 public
/// key (base64 DER SubjectPublicKeyInfo) fleet seals package credentials to; a runner without one gets none.
/// </summary>
public sealed record RunnerRegistration(string RunnerId, string Fleet, IReadOnlyList<string> Capabilities, string PublicKey, string KeyId,
    string? AgreementKey = null);

/// <summary>
/// HTTP body of POST /fleet/work/{workId}/refusal: the reason, and the same reason signed by the runner as a
/// <see cref="WorkResult"/> with Outcome Refused (DSSE, <see cref="WorkResult.PayloadType"/>).
/// </summary>
public sealed record WorkRefusal(string Reason, DsseEnvelope Envelope);

/// <summary>One of fleet's work-package signing keys as GET /fleet/keys serves it (like a JWKS entry).</summary>
public sealed record FleetSigningKey(string KeyId, string PublicKey, string Algorithm, DateTimeOffset CreatedAt, DateTimeOffset? RetiredAt);

/// <summary>The body of GET /fleet/keys.</summary>
public sealed record FleetKeySet(IReadOnlyList<FleetSigningKey> Keys)
{
    public const string Algorithm = "ecdsa-p256-sha256";
}
