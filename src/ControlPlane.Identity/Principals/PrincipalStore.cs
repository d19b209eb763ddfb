using ControlPlane.Identity.Data;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Security;
using Npgsql;

namespace ControlPlane.Identity.Principals;

/// <summary>Reads principals, their credentials and role bindings from identity-db (writes: <see cref="PrincipalWriter"/>).</summary>
public sealed class PrincipalStore(NpgsqlDataSource dataSource)
{
    private const string SelectPrincipal = """
        select p.id, p.kind, p.display_name, p.email, p.sponsor_id, p.fleet, p.allowed_environments, p.allowed_action_kinds, p.disabled_at,
               coalesce(array(select distinct b.binding from role_bindings b where b.principal_id = p.id and b.revoked_at is null order by b.binding), '{}')
        from principals p
        """;

    public async Task<Principal?> FindAsync(string id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(SelectPrincipal + " where p.id = $1").With(id);
        return await ReadOneAsync(command, cancellationToken);
    }

    /// <summary>Reads one principal inside a unit of work, so a writer sees its own uncommitted change.</summary>
    internal static async Task<Principal?> FindAsync(UnitOfWork work, string id, CancellationToken cancellationToken)
    {
        await using var command = (await work.CommandAsync(SelectPrincipal + " where p.id = $1")).With(id);
        return await ReadOneAsync(command, cancellationToken);
    }

    private static async Task<Principal?> ReadOneAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<Principal>> ListAsync(PrincipalKind? kind, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(SelectPrincipal + " where $1::text is null or p.kind = $1 order by p.kind, p.id")
            .With(kind switch { PrincipalKind.Agent => "agent", PrincipalKind.Human => "human", _ => null });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var principals = new List<Principal>();
        while (await reader.ReadAsync(cancellationToken))
        {
            principals.Add(Read(reader));
        }

        return principals;
    }

    public async Task<IReadOnlyList<BindingGrant>> BindingGrantsAsync(string principalId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select binding, source, granted_by, granted_at from role_bindings
            where principal_id = $1 and revoked_at is null order by binding, source
            """).With(principalId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var grants = new List<BindingGrant>();
        while (await reader.ReadAsync(cancellationToken))
        {
            grants.Add(new BindingGrant(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }

        return grants;
    }

    public async Task<IReadOnlyList<CredentialInfo>> CredentialsAsync(string principalId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select id, kind, key_id, created_by, created_at, last_used_at, revoked_at, revoked_by from client_credentials
            where principal_id = $1 order by created_at, id
            """).With(principalId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var credentials = new List<CredentialInfo>();
        while (await reader.ReadAsync(cancellationToken))
        {
            credentials.Add(new CredentialInfo(reader.GetString(0), reader.GetString(1), reader.GetNullableString(2), reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetNullableTime(5), reader.GetNullableTime(6), reader.GetNullableString(7)));
        }

        return credentials;
    }

    /// <summary>The live private_key_jwt keys of an agent.</summary>
    public async Task<IReadOnlyList<RegisteredKey>> LiveKeysAsync(string principalId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select id, key_id, public_jwk::text from client_credentials
            where principal_id = $1 and kind = 'private-key-jwt' and revoked_at is null
            """).With(principalId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<RegisteredKey>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(new RegisteredKey(reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }

        return keys;
    }

    /// <summary>The active agent whose live secret matches, or null. Compares against every live secret in constant time.</summary>
    public async Task<Principal?> AuthenticateSecretAsync(string clientId, string secret, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select c.id, c.secret_salt, c.secret_hash from client_credentials c
            where c.principal_id = $1 and c.kind = 'secret' and c.revoked_at is null
            """).With(clientId);
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

        await TouchCredentialAsync(matched, cancellationToken);
        var principal = await FindAsync(clientId, cancellationToken);
        return principal is { Kind: PrincipalKind.Agent, IsActive: true } ? principal : null;
    }

    public async Task TouchCredentialAsync(string credentialId, CancellationToken cancellationToken)
    {
        await using var touch = dataSource.CreateCommand("update client_credentials set last_used_at = now() where id = $1").With(credentialId);
        await touch.ExecuteNonQueryAsync(cancellationToken);
    }

    private static Principal Read(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1) == "agent" ? PrincipalKind.Agent : PrincipalKind.Human,
        reader.GetString(2),
        reader.GetNullableString(3),
        reader.GetNullableString(4),
        reader.GetNullableString(5),
        reader.GetFieldValue<string[]>(6),
        reader.GetFieldValue<string[]>(7),
        reader.GetFieldValue<string[]>(9),
        reader.GetNullableTime(8));
}
