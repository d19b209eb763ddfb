using System.Security.Cryptography;
using System.Text.Json;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Identity.Keys;

/// <summary>An ES256 key identity signs tokens with; Kid is the RFC 7638 thumbprint of its public JWK.</summary>
public sealed record SigningKey(string Kid, ECDsa Key, DateTimeOffset CreatedAt, DateTimeOffset? RetiredAt)
{
    public ECDsaSecurityKey SecurityKey { get; } = new(Key) { KeyId = Kid };

    public PublicJwk PublicJwk => PublicJwk.From(Kid, Key);
}

/// <summary>The public half as published in JWKS.</summary>
public sealed record PublicJwk(string Kty, string Crv, string X, string Y, string Kid, string Use, string Alg)
{
    public static PublicJwk From(string kid, ECDsa key)
    {
        var p = key.ExportParameters(includePrivateParameters: false);
        return new PublicJwk("EC", "P-256", Base64UrlEncoder.Encode(p.Q.X), Base64UrlEncoder.Encode(p.Q.Y), kid, "sig", "ES256");
    }

    /// <summary>RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order.</summary>
    public static string Thumbprint(ECDsa key)
    {
        var p = key.ExportParameters(includePrivateParameters: false);
        var canonical = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{Base64UrlEncoder.Encode(p.Q.X)}\",\"y\":\"{Base64UrlEncoder.Encode(p.Q.Y)}\"}}";
        return Base64UrlEncoder.Encode(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(canonical)));
    }
}

/// <summary>
/// Keeps identity's signing keys in identity-db: creates the first one, serves the active key for signing and
/// every key that may still have live tokens for JWKS. Cached for a minute so the token endpoint does not read
/// the database per request, and so replicas pick up a rotation quickly.
/// </summary>
public sealed class SigningKeyStore(NpgsqlDataSource dataSource, KeyProtector protector, TimeProvider clock)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(1);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IReadOnlyList<SigningKey> _keys = [];
    private DateTimeOffset _loadedAt = DateTimeOffset.MinValue;

    /// <summary>Published keys: the active one first, then retired ones whose tokens may still be alive.</summary>
    public async Task<IReadOnlyList<SigningKey>> GetKeysAsync(CancellationToken cancellationToken)
    {
        if (clock.GetUtcNow() - _loadedAt < CacheFor && _keys.Count > 0)
        {
            return _keys;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (clock.GetUtcNow() - _loadedAt >= CacheFor || _keys.Count == 0)
            {
                _keys = await LoadAsync(cancellationToken);
                _loadedAt = clock.GetUtcNow();
            }

            return _keys;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<SigningKey> GetActiveAsync(CancellationToken cancellationToken)
    {
        var keys = await GetKeysAsync(cancellationToken);
        return keys.FirstOrDefault(k => k.RetiredAt is null)
            ?? throw new InvalidOperationException("identity has no active signing key; it creates one at start.");
    }

    /// <summary>Creates a key when none is active. Runs at start under a transaction-scoped advisory lock.</summary>
    public async Task EnsureActiveKeyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("select pg_advisory_xact_lock(7364836)", connection, tx))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var exists = new NpgsqlCommand("select count(*) from signing_keys where retired_at is null", connection, tx))
        {
            if ((long)(await exists.ExecuteScalarAsync(cancellationToken))! > 0)
            {
                return;
            }
        }

        await InsertNewKeyAsync(connection, tx, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        _loadedAt = DateTimeOffset.MinValue;
    }

    /// <summary>Rotates: a new active key; the previous one is retired but stays published until its tokens expire.</summary>
    public async Task<string> RotateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("select pg_advisory_xact_lock(7364836)", connection, tx))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var retire = new NpgsqlCommand("update signing_keys set retired_at = now() where retired_at is null", connection, tx))
        {
            await retire.ExecuteNonQueryAsync(cancellationToken);
        }

        var kid = await InsertNewKeyAsync(connection, tx, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        _loadedAt = DateTimeOffset.MinValue;
        return kid;
    }

    private async Task<string> InsertNewKeyAsync(NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var kid = PublicJwk.Thumbprint(key);
        await using var insert = new NpgsqlCommand(
            "insert into signing_keys (kid, algorithm, public_jwk, protected_private_key) values ($1, 'ES256', $2, $3)", connection, tx);
        insert.Parameters.Add(new() { Value = kid });
        insert.Parameters.Add(new() { Value = JsonSerializer.Serialize(PublicJwk.From(kid, key)), NpgsqlDbType = NpgsqlDbType.Jsonb });
        insert.Parameters.Add(new() { Value = protector.Protect(key.ExportPkcs8PrivateKey()) });
        await insert.ExecuteNonQueryAsync(cancellationToken);
        return kid;
    }

    private async Task<IReadOnlyList<SigningKey>> LoadAsync(CancellationToken cancellationToken)
    {
        // A retired key is kept for a day: far longer than any token lifetime this service allows.
        await using var command = dataSource.CreateCommand("""
            select kid, protected_private_key, created_at, retired_at from signing_keys
            where retired_at is null or retired_at > now() - interval '1 day'
            order by retired_at nulls first, created_at desc
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<SigningKey>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var ecdsa = ECDsa.Create();
            ecdsa.ImportPkcs8PrivateKey(protector.Unprotect((byte[])reader[1]), out _);
            keys.Add(new SigningKey(reader.GetString(0), ecdsa, reader.GetFieldValue<DateTimeOffset>(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3)));
        }

        return keys;
    }
}
