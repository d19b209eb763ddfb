using ControlPlane.Evidence.Signing;
using ControlPlane.Evidence.Verification.Transparency;
using Npgsql;

namespace ControlPlane.Evidence.Transparency;

/// <summary>A checkpoint evidence signed: the tree size, its root and the signed note.</summary>
public sealed record StoredCheckpoint(long Size, byte[] RootHash, string Note, string KeyId, DateTimeOffset CreatedAt);

/// <summary>
/// The log no longer holds what was appended: records under a checkpoint it signed, or under a tile of its tree, were
/// changed or removed.
/// </summary>
public sealed class LogRewrittenException(long size, string message) : Exception(message)
{
    private const string Restore = "restore evidence-db from a backup and compare it with the checkpoints witnesses hold.";

    public LogRewrittenException(long size)
        : this(size, $"The evidence log no longer extends its own checkpoint at size {size}: records under it were changed or removed. " +
            $"No further checkpoint is signed; {Restore}")
    {
    }

    /// <summary>The log up to this size is not what was appended.</summary>
    public long Size { get; } = size;

    /// <summary>Records the tree already holds no longer hash to what was appended (the tree itself still does).</summary>
    public static LogRewrittenException Records(long first, long last) =>
        new(last, $"Evidence records {first} to {last} no longer hash to the Merkle tree built when they were appended: they were changed or removed. " +
            $"Nothing is proven from them; {Restore}");
}

/// <summary>
/// Signs and keeps C2SP checkpoints of the evidence tree. Before signing it checks that the tree still extends the
/// newest checkpoint it signed (a log must never sign two inconsistent checkpoints), so a rewritten database is
/// refused here, not discovered later by a reader.
/// </summary>
public sealed partial class CheckpointLog(NpgsqlDataSource dataSource, EvidenceTree tree, EvidenceKeyStore keys, IConfiguration configuration,
    ILogger<CheckpointLog> logger)
{
    private const long PublishLockKey = 0x4576436B7074; // "EvCkpt"

    /// <summary>The log's origin line and the key name on its signatures (c2sp.org/tlog-checkpoint).</summary>
    public string Origin { get; } = configuration["Evidence:LogOrigin"] is { Length: > 0 } origin ? origin : "controlplane.local/evidence";

    public async Task<StoredCheckpoint?> LatestAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select tree_size, root_hash, note, key_id, created_at from evidence_checkpoints order by tree_size desc limit 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<StoredCheckpoint?> AtSizeAsync(long size, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select tree_size, root_hash, note, key_id, created_at from evidence_checkpoints where tree_size = $1");
        command.Parameters.Add(new() { Value = size });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>Signs a checkpoint of the whole tree as it is now, unless the newest one already covers it.</summary>
    public async Task<StoredCheckpoint> PublishAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var gate = new NpgsqlCommand($"select pg_advisory_xact_lock({PublishLockKey})", connection, transaction))
        {
            await gate.ExecuteNonQueryAsync(cancellationToken);
        }

        var latest = await LatestAsync(cancellationToken);
        var (size, root, extendsLatest) = await tree.ReadAsync(t => (t.Size, t.RootHash(),
            latest is null || (latest.Size <= t.Size && t.RootHash(latest.Size).AsSpan().SequenceEqual(latest.RootHash))), cancellationToken);
        if (!extendsLatest)
        {
            LogRewritten(logger, latest!.Size);
            throw new LogRewrittenException(latest.Size);
        }

        if (latest is not null && latest.Size == size)
        {
            return latest;
        }

        var (key, signer) = await keys.GetSignerAsync(cancellationToken);
        using (signer.Key)
        {
            var note = SignedNote.SignEcdsa(new Checkpoint(Origin, size, root).Text(), Origin, signer.Key).ToString();
            await using var insert = new NpgsqlCommand(
                "insert into evidence_checkpoints (tree_size, root_hash, note, key_id) values ($1, $2, $3, $4) on conflict (tree_size) do nothing returning created_at",
                connection, transaction);
            insert.Parameters.Add(new() { Value = size });
            insert.Parameters.Add(new() { Value = root });
            insert.Parameters.Add(new() { Value = note });
            insert.Parameters.Add(new() { Value = key.KeyId });
            var createdAt = await insert.ExecuteScalarAsync(cancellationToken) is DateTimeOffset at ? at : DateTimeOffset.UtcNow;
            await transaction.CommitAsync(cancellationToken);
            LogPublished(logger, size, key.KeyId);
            return new StoredCheckpoint(size, root, note, key.KeyId, createdAt);
        }
    }

    private static StoredCheckpoint Read(NpgsqlDataReader reader) =>
        new(reader.GetInt64(0), (byte[])reader[1], reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4));

    [LoggerMessage(Level = LogLevel.Information, Message = "Signed evidence checkpoint at tree size {Size} with key {KeyId}")]
    private static partial void LogPublished(ILogger logger, long size, string keyId);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The evidence log no longer extends its checkpoint at size {Size}; no further checkpoint is signed")]
    private static partial void LogRewritten(ILogger logger, long size);
}
