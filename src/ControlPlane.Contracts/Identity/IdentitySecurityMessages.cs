namespace ControlPlane.Contracts;

/// <summary>
/// Event: repeated authentication failures locked a credential until <c>Until</c>; until then the right secret is
/// refused too. <c>Method</c> is the authentication method ("client_secret"); <c>CredentialId</c> is null when
/// the lock covers every credential of that method (a wrong secret matches no stored credential).
/// </summary>
public sealed record CredentialLocked(
    string PrincipalId,
    string? CredentialId,
    string Method,
    int Failures,
    DateTimeOffset Until,
    DateTimeOffset At);

/// <summary>
/// Event: identity's token signing key changed. <c>KeyId</c> now signs; <c>PreviousKeyId</c> stays published in
/// JWKS until <c>PreviousPublishedUntil</c> (its last token has expired by then). <c>RotatedBy</c> is the admin
/// who asked, or "system:key-rotation" for the scheduled rotation.
/// </summary>
public sealed record SigningKeyRotated(
    string Owner,
    string KeyId,
    string? PreviousKeyId,
    DateTimeOffset? PreviousPublishedUntil,
    string RotatedBy,
    DateTimeOffset At);
