using ControlPlane.Contracts;
using ControlPlane.Fleet.Signing;
using ControlPlane.ServiceDefaults.Data;
using Npgsql;

namespace ControlPlane.Fleet.Credentials;

/// <summary>
/// Package credentials in fleet-db. Minting and revoking run inside the caller's UnitOfWork, so the record, the
/// package that carries the credential and the WorkCredentialMinted / WorkCredentialRevoked evidence commit together.
/// </summary>
public static class CredentialStore
{
    public const string ExpiredReason = "credential expired";

    /// <summary>
    /// Mints the package's credential sealed to the runner's agreement key, or says in the package why there is none.
    /// </summary>
    public static async Task<PackageCredential> MintAsync(UnitOfWork work, FleetKey key, WorkPackage package, string? agreementKey, DateTimeOffset now,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(package);
        if (package.Targets is not { Count: > 0 })
        {
            return new PackageCredential(null, null, null, "the package names no target system");
        }

        if (string.IsNullOrEmpty(agreementKey))
        {
            return new PackageCredential(null, null, null, $"runner {package.Audience} registered no agreement key to seal a credential to");
        }

        var jti = CredentialTokens.NewJti();
        var token = CredentialTokens.Create(key, package, jti);
        var sealedCredential = CredentialSeal.Seal(token, agreementKey, package.WorkId, package.Audience);
        await using (var insert = await work.CommandAsync("""
            insert into work_credentials (jti, work_id, proposal_id, runner_id, audience, environment, action, minted_at, expires_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """))
        {
            insert.Parameters.Add(new() { Value = jti });
            insert.Parameters.Add(new() { Value = package.WorkId });
            insert.Parameters.Add(new() { Value = package.ProposalId });
            insert.Parameters.Add(new() { Value = package.Audience });
            insert.Parameters.Add(new() { Value = package.Targets.ToArray() });
            insert.Parameters.Add(new() { Value = package.Environment });
            insert.Parameters.Add(new() { Value = package.ActionKind });
            insert.Parameters.Add(new() { Value = now });
            insert.Parameters.Add(new() { Value = package.ExpiresAt });
            await insert.ExecuteNonQueryAsync(ct);
        }

        var grant = new CredentialGrant(jti, package.Audience, package.Targets, package.Environment, package.ActionKind, package.ExpiresAt);
        await work.EnqueueAsync(new WorkCredentialMinted(package.ProposalId, package.WorkId, grant, now), ct);
        FleetTelemetry.CredentialsMinted.Add(1);
        return new PackageCredential(jti, package.ExpiresAt, sealedCredential, null);
    }

    /// <summary>Revokes the work's live credentials (its package closed or was offered again); how many.</summary>
    public static Task<int> RevokeForWorkAsync(UnitOfWork work, Guid workId, string reason, DateTimeOffset now, CancellationToken ct) =>
        RevokeAsync(work, "work_id = $3", workId, reason, now, ct);

    /// <summary>The sweep: credentials past their expiry that nothing revoked yet.</summary>
    public static Task<int> RevokeExpiredAsync(UnitOfWork work, DateTimeOffset now, CancellationToken ct) =>
        RevokeAsync(work, "expires_at <= $3", now, ExpiredReason, now, ct);

    public static async Task<StoredCredential?> FindAsync(NpgsqlDataSource dataSource, string jti, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var command = dataSource.CreateCommand("""
            select jti, work_id, proposal_id, runner_id, audience, environment, action, expires_at, revoked_at, reason
            from work_credentials where jti = $1
            """);
        command.Parameters.Add(new() { Value = jti });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new StoredCredential(reader.GetString(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetString(3), reader.GetFieldValue<string[]>(4),
                reader.GetString(5), reader.GetString(6), reader.GetFieldValue<DateTimeOffset>(7),
                reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8), reader.IsDBNull(9) ? null : reader.GetString(9))
            : null;
    }

    private static async Task<int> RevokeAsync(UnitOfWork work, string condition, object value, string reason, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(work);
        var revoked = new List<WorkCredentialRevoked>();
        await using (var update = await work.CommandAsync($"""
            update work_credentials set revoked_at = $1, reason = $2
            where jti in (select jti from work_credentials where revoked_at is null and {condition} limit 500 for update skip locked)
            returning jti, work_id, proposal_id, runner_id, audience, environment, action, expires_at
            """))
        {
            update.Parameters.Add(new() { Value = now });
            update.Parameters.Add(new() { Value = reason });
            update.Parameters.Add(new() { Value = value });
            await using var reader = await update.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var grant = new CredentialGrant(reader.GetString(0), reader.GetString(3), reader.GetFieldValue<string[]>(4), reader.GetString(5),
                    reader.GetString(6), reader.GetFieldValue<DateTimeOffset>(7));
                revoked.Add(new WorkCredentialRevoked(reader.GetGuid(2), reader.GetGuid(1), grant, reason, now));
            }
        }

        foreach (var message in revoked)
        {
            await work.EnqueueAsync(message, ct);
        }

        FleetTelemetry.CredentialsRevoked.Add(revoked.Count);

        return revoked.Count;
    }
}
