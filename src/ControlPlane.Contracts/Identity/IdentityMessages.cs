namespace ControlPlane.Contracts;

/// <summary>Event: a principal (human or agent) was registered or changed.</summary>
public sealed record PrincipalChanged(
    string PrincipalId,
    string Kind,
    string DisplayName,
    string? SponsorId,
    string? Fleet,
    IReadOnlyList<string> AllowedEnvironments,
    IReadOnlyList<string> AllowedActionKinds,
    string Change,
    string ChangedBy,
    DateTimeOffset At);

/// <summary>Event: a principal or one of its credentials was revoked; tokens issued before At are refused everywhere.</summary>
public sealed record PrincipalRevoked(string PrincipalId, string? CredentialId, string Reason, string RevokedBy, DateTimeOffset At);

/// <summary>Event: a role binding was granted or revoked.</summary>
public sealed record RoleBindingChanged(
    string PrincipalId,
    string Binding,
    bool Granted,
    string ChangedBy,
    DateTimeOffset At);
