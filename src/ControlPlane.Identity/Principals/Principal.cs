using ControlPlane.Identity.Tokens;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Identity.Principals;

/// <summary>A human or an agent as identity stores it, with its active role bindings.</summary>
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

    public TokenSubject ToTokenSubject(string? clientId = null) =>
        new(Id, Kind, DisplayName, Bindings, SponsorId, Fleet, clientId);
}
