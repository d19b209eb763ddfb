using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.EndToEnd.Tests.Support;

/// <summary>One seeded human per role, each with exactly that role bound globally, and one with no role at all.</summary>
public static class RoleHumans
{
    public const string Nobody = "role.none@example.com";

    public static IReadOnlyList<(string Id, string? Role)> All { get; } =
        [.. Roles.All.Order(StringComparer.Ordinal).Select(r => (For(r), (string?)r)), (Nobody, null)];

    public static string For(string role) => $"role.{role}@example.com";
}
