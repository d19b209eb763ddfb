using ControlPlane.Contracts;

namespace ControlPlane.ServiceDefaults.Security;

/// <summary>What a binding is scoped to: everything, one environment, one system-graph node, or one team.</summary>
public enum ScopeKind
{
    Global,
    Environment,
    Node,
    Team,
}

/// <summary>
/// A role granted to a principal, as carried in the token's cp_roles claim: "approver" (global),
/// "approver@environment:production", "approver@node:billing" or "approver@team:payments".
/// </summary>
public sealed record RoleBinding(string Role, ScopeKind Scope = ScopeKind.Global, string? ScopeValue = null)
{
    public static bool TryParse(string text, out RoleBinding binding)
    {
        binding = null!;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var at = text.IndexOf('@', StringComparison.Ordinal);
        var role = at < 0 ? text : text[..at];
        if (!Roles.All.Contains(role))
        {
            return false;
        }

        if (at < 0)
        {
            binding = new RoleBinding(role);
            return true;
        }

        var scope = text[(at + 1)..];
        var colon = scope.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == scope.Length - 1)
        {
            return false;
        }

        ScopeKind? kind = scope[..colon] switch
        {
            "environment" => ScopeKind.Environment,
            "node" => ScopeKind.Node,
            "team" => ScopeKind.Team,
            _ => null,
        };
        if (kind is null)
        {
            return false;
        }

        binding = new RoleBinding(role, kind.Value, scope[(colon + 1)..]);
        return true;
    }

    public override string ToString() => Scope == ScopeKind.Global
        ? Role
        : $"{Role}@{Scope.ToString().ToLowerInvariant()}:{ScopeValue}";

    /// <summary>
    /// Whether this binding covers an object in <paramref name="environment"/> touching <paramref name="nodes"/>
    /// owned by <paramref name="teams"/>. A node or team binding covers the object only when every target is inside it.
    /// </summary>
    public bool Covers(string? environment, IReadOnlyCollection<string>? nodes = null, IReadOnlyCollection<string>? teams = null) => Scope switch
    {
        ScopeKind.Global => true,
        ScopeKind.Environment => environment is not null && string.Equals(environment, ScopeValue, StringComparison.Ordinal),
        ScopeKind.Node => nodes is { Count: > 0 } && nodes.All(n => string.Equals(n, ScopeValue, StringComparison.Ordinal)),
        ScopeKind.Team => teams is { Count: > 0 } && teams.All(t => string.Equals(t, ScopeValue, StringComparison.Ordinal)),
        _ => false,
    };
}
