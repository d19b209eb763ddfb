using System.Security.Claims;

namespace ControlPlane.ServiceDefaults.Security;

/// <summary>Claim names of ControlPlane access tokens (issued by identity, RFC 9068 shape).</summary>
public static class ControlPlaneClaims
{
    public const string Subject = "sub";
    public const string Name = "name";
    public const string Kind = "cp_kind";
    public const string Roles = "cp_roles";
    public const string Sponsor = "cp_sponsor";
    public const string Fleet = "cp_fleet";
    public const string ClientId = "client_id";
    public const string TokenType = "at+jwt";
}

public enum PrincipalKind
{
    Human,
    Agent,
}

/// <summary>The authenticated caller as the plane sees it: who, what kind, which bindings, and (agents) whose sponsorship.</summary>
public sealed record Caller(string Id, PrincipalKind Kind, string Name, IReadOnlyList<RoleBinding> Bindings, string? SponsorId, string? Fleet)
{
    public static Caller? From(ClaimsPrincipal user)
    {
        var id = user.FindFirst(ControlPlaneClaims.Subject)?.Value;
        if (user.Identity?.IsAuthenticated != true || string.IsNullOrEmpty(id))
        {
            return null;
        }

        var kind = user.FindFirst(ControlPlaneClaims.Kind)?.Value == "agent" ? PrincipalKind.Agent : PrincipalKind.Human;
        var bindings = user.FindAll(ControlPlaneClaims.Roles)
            .Select(c => RoleBinding.TryParse(c.Value, out var b) ? b : null)
            .OfType<RoleBinding>()
            .ToList();
        return new Caller(id, kind, user.FindFirst(ControlPlaneClaims.Name)?.Value ?? id, bindings,
            user.FindFirst(ControlPlaneClaims.Sponsor)?.Value, user.FindFirst(ControlPlaneClaims.Fleet)?.Value);
    }

    /// <summary>Holds the permission through any binding, whatever its scope (the endpoint-level check).</summary>
    public bool HasPermission(string permission) => Bindings.Any(b => Permissions.Grants(b.Role, permission));

    /// <summary>Holds the permission through a binding whose scope covers the object (the object-level check).</summary>
    public bool HasPermission(string permission, string? environment, IReadOnlyCollection<string>? nodes = null, IReadOnlyCollection<string>? teams = null) =>
        Bindings.Any(b => Permissions.Grants(b.Role, permission) && b.Covers(environment, nodes, teams));
}
