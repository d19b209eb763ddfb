using System.Security.Cryptography;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Security;
using Npgsql;

namespace ControlPlane.Fleet.Signing;

/// <summary>Fleet's active work-package signing key.</summary>
public sealed record FleetKey(string KeyId, ECDsa Key);

/// <summary>
/// Fleet's ECDSA P-256 work-package keys in fleet-db (private half AES-GCM encrypted by <see cref="KeyProtector"/>).
/// The first start creates one and announces it as SigningKeyPublished through the outbox in the same
/// transaction, so the key exists exactly when evidence learns of it; later starts announce it again.
/// </summary>
public sealed class FleetSigningKeys(NpgsqlDataSource dataSource, KeyProtector protector, TimeProvider clock)
{
    public const string Owner = "fleet";
    private const long CreateLockKey = 0x466C6565744B6579; // "FleetKey"
    private readonly SemaphoreSlim _gate = new(1, 1);
    private FleetKey? _active;

    /// <summary>Refuses to go on (with the way out) when the stored keys do not open with the configured key-encryption key.</summary>
    public Task VerifyStoredKeysAsync(CancellationToken ct) => protector.VerifyStoredKeysAsync(dataSource, "signing_keys", "key_id", ct);

    public async Task EnsureActiveKeyAsync(CancellationToken ct)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        await using (var lockCommand = await work.CommandAsync($"select pg_advisory_xact_lock({CreateLockKey})"))
        {
            await lockCommand.ExecuteNonQueryAsync(ct);
        }

        // An existing key is announced again at every start: an announcement published before evidence's queue
        // existed (a first deployment) is otherwise lost for good, and every bundle would lack fleet's key.
        // Evidence keeps the latest record per key id, so repeating it is harmless.
        await using (var existing = await work.CommandAsync("select key_id, public_key from signing_keys where retired_at is null order by created_at desc limit 1"))
        await using (var reader = await existing.ExecuteReaderAsync(ct))
        {
            if (await reader.ReadAsync(ct))
            {
                var announcement = new SigningKeyPublished(Owner, "fleet", reader.GetString(0), reader.GetString(1), clock.GetUtcNow());
                await reader.CloseAsync();
                await work.EnqueueAsync(announcement, ct);
                await work.CommitAsync(ct);
                return;
            }
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var keyId = SigningKeyIds.Thumbprint(key);
        var publicKey = SigningKeyIds.ExportPublicKey(key);
        var now = clock.GetUtcNow();
        await using (var insert = await work.CommandAsync("insert into signing_keys (key_id, public_key, protected_private_key, created_at) values ($1, $2, $3, $4)"))
        {
            insert.Parameters.Add(new() { Value = keyId });
            insert.Parameters.Add(new() { Value = publicKey });
            insert.Parameters.Add(new() { Value = protector.Protect(key.ExportPkcs8PrivateKey()) });
            insert.Parameters.Add(new() { Value = now });
            await insert.ExecuteNonQueryAsync(ct);
        }

        await work.EnqueueAsync(new SigningKeyPublished(Owner, "fleet", keyId, publicKey, now), ct);
        await work.CommitAsync(ct);
    }

    public async Task<FleetKey> GetActiveAsync(CancellationToken ct)
    {
        if (_active is { } cached)
        {
            return cached;
        }

        await _gate.WaitAsync(ct);
        try
        {
            if (_active is null)
            {
                await using var command = dataSource.CreateCommand(
                    "select key_id, protected_private_key from signing_keys where retired_at is null order by created_at desc limit 1");
                await using var reader = await command.ExecuteReaderAsync(ct);
                if (!await reader.ReadAsync(ct))
                {
                    throw new InvalidOperationException("fleet has no active signing key; it creates one at start.");
                }

                var key = ECDsa.Create();
                key.ImportPkcs8PrivateKey(protector.Unprotect((byte[])reader[1]), out _);
                _active = new FleetKey(reader.GetString(0), key);
            }

            return _active;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The public keys runners verify packages with: the active one and retired ones.</summary>
    public async Task<FleetKeySet> GetPublishedAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "select key_id, public_key, created_at, retired_at from signing_keys order by retired_at nulls first, created_at desc");
        await using var reader = await command.ExecuteReaderAsync(ct);
        var keys = new List<FleetSigningKey>();
        while (await reader.ReadAsync(ct))
        {
            keys.Add(new FleetSigningKey(reader.GetString(0), reader.GetString(1), FleetKeySet.Algorithm,
                reader.GetFieldValue<DateTimeOffset>(2), reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3)));
        }

        return new FleetKeySet(keys);
    }
}

/// <summary>Makes sure fleet can sign before it takes work (runs after the migrations).</summary>
public sealed class FleetKeyStartup(FleetSigningKeys keys) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await keys.VerifyStoredKeysAsync(cancellationToken);
        await keys.EnsureActiveKeyAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
