using ControlPlane.Contracts;
using ControlPlane.Identity.Tokens;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Identity.Principals;

/// <summary>A human or an agent as identity stores it, with its active role bindings (from every source).</summary>
public sealed record Principal(
    string Id,
    PrincipalKind Kind,
    string DisplayName,
    string? Email,
    string? SponsorId,
    string? Fleet,
    IReadOnlyList<string> AllowedEnvironments,
    IReadOnlyList<string> AllowedActionKinds,
    IReadOnlyList<string> Bindings,
    DateTimeOffset? DisabledAt)
{
    public bool IsActive => DisabledAt is null;

    [System.Text.Json.Serialization.JsonIgnore]
    public string KindName => Kind == PrincipalKind.Agent ? "agent" : "human";

    public TokenSubject ToTokenSubject(string? clientId = null) =>
        new(Id, Kind, DisplayName, Bindings, SponsorId, Fleet, clientId);

    /// <summary>The event every change of a principal publishes, naming who made it.</summary>
    public PrincipalChanged Changed(string change, string changedBy, DateTimeOffset at) =>
        new(Id, KindName, DisplayName, SponsorId, Fleet, AllowedEnvironments, AllowedActionKinds, change, changedBy, at);
}

/// <summary>A credential as the API shows it: never the secret or its hash.</summary>
public sealed record CredentialInfo(
    string Id,
    string Kind,
    string? KeyId,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt,
    string? RevokedBy);

/// <summary>A registered public key of an agent (private_key_jwt), as stored: the credential id, the kid and the JWK.</summary>
public sealed record RegisteredKey(string CredentialId, string KeyId, string Jwk);

/// <summary>A binding with where it came from: "direct" (API, seed) or "idp-group" (replaced on each token exchange).</summary>
public sealed record BindingGrant(string Binding, string Source, string GrantedBy, DateTimeOffset GrantedAt);
