namespace ControlPlane.Contracts;

/// <summary>
/// Event: a signing key came into use (fleet's work-package key, a runner's result key, evidence's checkpoint
/// key). Evidence records it, so a bundle carries the very keys its signatures verify against.
/// PublicKey is the base64 DER SubjectPublicKeyInfo of an ECDSA P-256 key.
/// </summary>
public sealed record SigningKeyPublished(string Owner, string OwnerKind, string KeyId, string PublicKey, DateTimeOffset At);
