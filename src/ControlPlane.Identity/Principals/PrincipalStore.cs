using ControlPlane.ServiceDefaults.Security;
using Npgsql;

namespace ControlPlane.Identity.Principals;

/// <summary>Reads and writes principals, their credentials and role bindings in identity-db.</summary>
public sealed class PrincipalStore(NpgsqlDataSource dataSource)
{
    public async Task<Principal?> FindAsync(string id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select p.id, p.kind, p.display_name, p.email, p.sponsor_id, p.fleet, p.allowed_environments, p.allowed_action_kinds, p.disabled_at,
                   coalesce(array(select b.binding from role_bindings b where b.principal_id = p.id and b.revoked_at is null order by b.binding), '{}')
            from principals p where p.id = $1
            """);
        command.Parameters.Add(new() { Value = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new Principal(
            reader.GetString(0),
            reader.GetString(1) == "agent" ? PrincipalKind.Agent : PrincipalKind.Human,
            reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetString(5),
            reader.GetFieldValue<string[]>(6),
            reader.GetFieldValue<string[]>(7),
            reader.GetFieldValue<string[]>(9),
            reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8));
    }

    /// <summary>The agent whose active secret matches, or null. Records the use on success.</summary>
    public async Task<Principal?> AuthenticateSecretAsync(string clientId, string secret, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select c.id, c.secret_salt, c.secret_hash from client_credentials c
            where c.principal_id = $1 and c.kind = 'secret' and c.revoked_at is null
            """);
        command.Parameters.Add(new() { Value = clientId });
        string? matched = null;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (SecretHasher.Verify(secret, (byte[])reader[1], (byte[])reader[2]))
                {
                    matched = reader.GetString(0);
                }
            }
        }

        if (matched is null)
        {
            return null;
        }

        await using (var touch = dataSource.CreateCommand("update client_credentials set last_used_at = now() where id = $1"))
        {
            touch.Parameters.Add(new() { Value = matched });
            await touch.ExecuteNonQueryAsync(cancellationToken);
        }

        var principal = await FindAsync(clientId, cancellationToken);
        return principal is { Kind: PrincipalKind.Agent, IsActive: true } ? principal : null;
    }

    /// <summary>Creates or updates a principal and makes its bindings exactly the given set (seed and admin use).</summary>
    public async Task UpsertAsync(Principal principal, string actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var upsert = new NpgsqlCommand("""
            insert into principals (id, kind, display_name, email, sponsor_id, fleet, allowed_environments, allowed_action_kinds, created_by)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            on conflict (id) do update set display_name = excluded.display_name, email = excluded.email, sponsor_id = excluded.sponsor_id,
                fleet = excluded.fleet, allowed_environments = excluded.allowed_environments, allowed_action_kinds = excluded.allowed_action_kinds
            """, connection, tx))
        {
            upsert.Parameters.Add(new() { Value = principal.Id });
            upsert.Parameters.Add(new() { Value = principal.Kind == PrincipalKind.Agent ? "agent" : "human" });
            upsert.Parameters.Add(new() { Value = principal.DisplayName });
            upsert.Parameters.Add(new() { Value = (object?)principal.Email ?? DBNull.Value });
            upsert.Parameters.Add(new() { Value = (object?)principal.SponsorId ?? DBNull.Value });
            upsert.Parameters.Add(new() { Value = (object?)principal.Fleet ?? DBNull.Value });
            upsert.Parameters.Add(new() { Value = principal.AllowedEnvironments.ToArray() });
            upsert.Parameters.Add(new() { Value = principal.AllowedActionKinds.ToArray() });
            upsert.Parameters.Add(new() { Value = actor });
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var revoke = new NpgsqlCommand(
            "update role_bindings set revoked_at = now(), revoked_by = $3 where principal_id = $1 and revoked_at is null and not (binding = any($2))", connection, tx))
        {
            revoke.Parameters.Add(new() { Value = principal.Id });
            revoke.Parameters.Add(new() { Value = principal.Bindings.ToArray() });
            revoke.Parameters.Add(new() { Value = actor });
            await revoke.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var binding in principal.Bindings)
        {
            if (!RoleBinding.TryParse(binding, out _))
            {
                throw new ArgumentException($"'{binding}' is not a role binding (role, or role@environment:x, role@node:x, role@team:x).");
            }

            await using var grant = new NpgsqlCommand("""
                insert into role_bindings (principal_id, binding, granted_by) values ($1, $2, $3)
                on conflict (principal_id, binding) where revoked_at is null do nothing
                """, connection, tx);
            grant.Parameters.Add(new() { Value = principal.Id });
            grant.Parameters.Add(new() { Value = binding });
            grant.Parameters.Add(new() { Value = actor });
            await grant.ExecuteNonQueryAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>Stores a client secret (hashed) under a credential id, unless that credential already exists.</summary>
    public async Task AddSecretAsync(string principalId, string credentialId, string secret, string actor, CancellationToken cancellationToken)
    {
        var (salt, hash) = SecretHasher.Hash(secret);
        await using var command = dataSource.CreateCommand("""
            insert into client_credentials (id, principal_id, kind, secret_salt, secret_hash, created_by)
            values ($1, $2, 'secret', $3, $4, $5) on conflict (id) do nothing
            """);
        command.Parameters.Add(new() { Value = credentialId });
        command.Parameters.Add(new() { Value = principalId });
        command.Parameters.Add(new() { Value = salt });
        command.Parameters.Add(new() { Value = hash });
        command.Parameters.Add(new() { Value = actor });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
