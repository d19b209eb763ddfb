using System.Security.Cryptography;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Recording;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Security;
using Npgsql;

namespace ControlPlane.Evidence.Signing;

/// <summary>A checkpoint key as stored: id, public half and when it was made.</summary>
public sealed record StoredEvidenceKey(string KeyId, string PublicKey, DateTimeOffset CreatedAt);

/// <summary>
/// Evidence's own ECDSA P-256 key for signing checkpoints, kept in evidence-db with the private half encrypted
/// (<see cref="KeyProtector"/>). Created once, by whichever replica gets there first, and announced in the same
/// transaction as a <see cref="SigningKeyPublished"/> through the outbox. The announcement is also appended to
/// the log in that transaction, with its message id in the inbox: on a first start the relay can publish before
/// the bus has bound evidence's queue, and the key's record must not depend on winning that race. When the
/// bus copy comes back, the inbox drops it.
/// </summary>
public sealed partial class EvidenceKeyStore(NpgsqlDataSource dataSource, KeyProtector protector, EvidenceLog log, TimeProvider clock,
    ILogger<EvidenceKeyStore> logger)
{
    private const long KeyLockKey = 0x45764B657973; // "EvKeys"
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (StoredEvidenceKey Key, byte[] Pkcs8)? _active;

    /// <summary>"evidence-" and the first 16 hex digits of the key's fingerprint.</summary>
    public static string KeyIdOf(ReadOnlySpan<byte> subjectPublicKeyInfo) =>
        "evidence-" + EvidenceFormat.KeyFingerprint(subjectPublicKeyInfo)["sha256:".Length..][..16];

    /// <summary>Refuses to go on (with the way out) when the stored keys do not open with the configured key-encryption key.</summary>
    public Task VerifyStoredKeysAsync(CancellationToken cancellationToken) =>
        protector.VerifyStoredKeysAsync(dataSource, "evidence_signing_keys", "key_id", cancellationToken);

    public async Task EnsureKeyAsync(CancellationToken cancellationToken)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        await using (var lockCommand = await work.CommandAsync($"select pg_advisory_xact_lock({KeyLockKey})"))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var exists = await work.CommandAsync("select exists (select 1 from evidence_signing_keys)"))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken) is true)
            {
                return;
            }
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var spki = key.ExportSubjectPublicKeyInfo();
        var keyId = KeyIdOf(spki);
        var publicKey = Convert.ToBase64String(spki);
        await using (var insert = await work.CommandAsync("insert into evidence_signing_keys (key_id, public_key, protected_private_key) values ($1, $2, $3)"))
        {
            insert.Parameters.Add(new() { Value = keyId });
            insert.Parameters.Add(new() { Value = publicKey });
            insert.Parameters.Add(new() { Value = protector.Protect(key.ExportPkcs8PrivateKey()) });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        var announcement = new SigningKeyPublished("evidence", EvidenceFormat.EvidenceOwner, keyId, publicKey, clock.GetUtcNow());
        var messageId = await work.EnqueueAsync(announcement, cancellationToken);
        await work.AcceptOnceAsync(EvidenceLog.InboxConsumer, messageId, cancellationToken);
        await log.AppendAsync(work, EvidenceKinds.Of<SigningKeyPublished>().Draft(announcement), messageId, cancellationToken);
        await work.CommitAsync(cancellationToken);
        LogCreated(logger, keyId);
    }

    /// <summary>The newest key. The caller disposes the returned signer (a fresh ECDsa each time: signing needs no shared state).</summary>
    public async Task<(StoredEvidenceKey Key, EvidenceSigner Signer)> GetSignerAsync(CancellationToken cancellationToken)
    {
        var (stored, pkcs8) = await ActiveAsync(cancellationToken);
        var ecdsa = ECDsa.Create();
        ecdsa.ImportPkcs8PrivateKey(pkcs8, out _);
        return (stored, new EvidenceSigner(ecdsa, stored.KeyId));
    }

    public async Task<IReadOnlyList<StoredEvidenceKey>> PublicKeysAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select key_id, public_key, created_at from evidence_signing_keys order by created_at desc, key_id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<StoredEvidenceKey>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(new StoredEvidenceKey(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)));
        }

        return keys;
    }

    private async Task<(StoredEvidenceKey Key, byte[] Pkcs8)> ActiveAsync(CancellationToken cancellationToken)
    {
        if (_active is { } cached)
        {
            return cached;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_active is null)
            {
                await using var command = dataSource.CreateCommand(
                    "select key_id, public_key, created_at, protected_private_key from evidence_signing_keys order by created_at desc, key_id limit 1");
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                if (!await reader.ReadAsync(cancellationToken))
                {
                    throw new InvalidOperationException("evidence has no signing key; it creates one at start.");
                }

                _active = (new StoredEvidenceKey(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)),
                    protector.Unprotect((byte[])reader[3]));
            }

            return _active.Value;
        }
        finally
        {
            _gate.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created evidence signing key {KeyId} and queued its announcement")]
    private static partial void LogCreated(ILogger logger, string keyId);
}

/// <summary>Makes sure evidence has a signing key before it serves bundles (after the migrations, which start first).</summary>
public sealed class EvidenceKeyStartup(EvidenceKeyStore keys) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await keys.VerifyStoredKeysAsync(cancellationToken);
        await keys.EnsureKeyAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
