using ControlPlane.Contracts;
using ControlPlane.Fleet.Signing;
using ControlPlane.ServiceDefaults.Security;
using Npgsql;

namespace ControlPlane.Fleet.Credentials;

/// <summary>Answers a target system's introspection of a package credential (RFC 7662): see <see cref="IntrospectionRules"/>.</summary>
public sealed partial class CredentialIntrospector(NpgsqlDataSource dataSource, FleetSigningKeys keys, TimeProvider clock, ILogger<CredentialIntrospector> logger)
{
    public async Task<CredentialIntrospection> IntrospectAsync(string? token, Caller caller, CancellationToken ct)
    {
        var audiences = IntrospectionRules.CallerAudiences(caller);
        var now = clock.GetUtcNow();
        var (claims, failure) = await CredentialTokens.ReadAsync(token, await keys.GetPublishedAsync(ct), now);
        var stored = claims is null ? null : await CredentialStore.FindAsync(dataSource, claims.Jti, ct);
        var answer = IntrospectionRules.Decide(claims, stored, audiences, now);
        // The token is never logged: its id, and why it is inactive, are enough to follow up.
        LogIntrospected(logger, caller.Id, claims?.Jti ?? "(unreadable)", answer.Active,
            answer.Active ? "active" : failure ?? stored?.Reason ?? (stored is null ? "unknown to fleet" : "not for this audience or expired"));
        return answer;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Target system {Caller} introspected credential {Jti}: active {Active} ({Why})")]
    private static partial void LogIntrospected(ILogger logger, string caller, string jti, bool active, string why);
}
