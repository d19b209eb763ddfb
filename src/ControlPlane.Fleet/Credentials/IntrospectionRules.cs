using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Fleet.Credentials;

/// <summary>A minted credential as fleet-db records it (never the token).</summary>
public sealed record StoredCredential(
    string Jti, Guid WorkId, Guid ProposalId, string RunnerId, IReadOnlyList<string> Audience, string Environment, string Action,
    DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, string? Reason);

/// <summary>
/// Who may learn what at introspection. A target system's identity names the audiences it checks for: its bindings
/// of a role granting credentials:introspect scoped to a node ("target-system@node:billing"). A global or
/// environment-scoped binding names no audience, so it checks nothing (fail closed). A token is active only when
/// fleet signed it, fleet recorded it, it is neither revoked nor expired, and its aud names one of the caller's
/// audiences. Pure.
/// </summary>
public static class IntrospectionRules
{
    public static IReadOnlySet<string> CallerAudiences(Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return caller.Bindings
            .Where(b => b.Scope == ScopeKind.Node && !string.IsNullOrEmpty(b.ScopeValue) && Permissions.Grants(b.Role, Permissions.CredentialsIntrospect))
            .Select(b => b.ScopeValue!)
            .ToHashSet(StringComparer.Ordinal);
    }

    public static CredentialIntrospection Decide(CredentialClaims? claims, StoredCredential? stored, IReadOnlySet<string> callerAudiences, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(callerAudiences);
        if (claims is null || stored is null || stored.RevokedAt is not null || stored.ExpiresAt <= now || claims.ExpiresAt <= now
            || stored.WorkId != claims.Package || !claims.Audience.Any(callerAudiences.Contains))
        {
            return CredentialIntrospection.Inactive;
        }

        return new CredentialIntrospection(true, claims.Audience, claims.Environment, claims.Action, claims.Package,
            claims.ExpiresAt.ToUnixTimeSeconds(), claims.Jti);
    }
}
