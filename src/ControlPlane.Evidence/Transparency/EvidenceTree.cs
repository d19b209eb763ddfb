using System.Diagnostics;
using ControlPlane.Evidence.Verification.Transparency;
using Npgsql;

namespace ControlPlane.Evidence.Transparency;

/// <summary>
/// The evidence log's Merkle tree, caught up from evidence-db before each use (the database is the only source; every
/// replica builds the same tree). Leaf i is record i + 1; its leaf data is the UTF-8 text of the record hash, which
/// already commits to every field of the record and to the chain before it.
/// Only the roots of complete 256-record tiles and the levels above them stay in memory (about 250 KB for a million
/// records, not 61 MB, so memory does not grow with the log): a read that needs the lower levels of a tile reads its
/// 256 record hashes back, checks them against the tile's root and runs again.
/// </summary>
public sealed partial class EvidenceTree(NpgsqlDataSource dataSource, ILogger<EvidenceTree> logger)
{
    // A catch-up this large (the first read after a start reads the whole log) is logged with its time.
    private const long LargeCatchUp = 10_000;

    // Tiles read back for one read stay until the next read; a read rarely needs more than a few.
    private readonly MerkleTree _tree = new(keepCompleteTiles: false);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public static byte[] LeafHash(string recordHash) => BundleLogVerifier.LeafHash(recordHash);

    /// <summary>Catches up with the log, then runs <paramref name="read"/> on the tree with no append in between.</summary>
    /// <exception cref="LogRewrittenException">Records under a tile no longer hash to what was appended.</exception>
    public async Task<T> ReadAsync<T>(Func<MerkleTree, T> read, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _tree.ForgetLoadedTiles();
            await CatchUpAsync(cancellationToken);
            while (true)
            {
                try
                {
                    return read(_tree);
                }
                catch (MissingMerkleTileException missing)
                {
                    // Each pass loads a tile the read had not got, and none is dropped during a read: this ends.
                    await LoadTileAsync(missing, cancellationToken);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        var (from, started) = (_tree.Size, Stopwatch.GetTimestamp());
        await AppendNewRecordsAsync(cancellationToken);
        // Reads wait during a catch-up: an operator should see how long a large one took.
        if (_tree.Size - from >= LargeCatchUp)
        {
            LogCaughtUp(logger, _tree.Size - from, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, _tree.Size);
        }
    }

    private async Task AppendNewRecordsAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select sequence, record_hash from evidence_records where sequence > $1 order by sequence");
        command.Parameters.Add(new() { Value = _tree.Size });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var sequence = reader.GetInt64(0);
            if (sequence != _tree.Size + 1)
            {
                // Appends commit in sequence order under one lock, so a gap is only a commit not yet visible here.
                break;
            }

            _tree.AppendLeafHash(LeafHash(reader.GetString(1)));
        }
    }

    private async Task LoadTileAsync(MissingMerkleTileException missing, CancellationToken cancellationToken)
    {
        var (first, last) = (missing.FirstLeaf + 1, missing.FirstLeaf + missing.Leaves);
        await using var command = dataSource.CreateCommand(
            "select record_hash from evidence_records where sequence between $1 and $2 order by sequence");
        command.Parameters.Add(new() { Value = first });
        command.Parameters.Add(new() { Value = last });
        var leaves = new List<byte[]>(missing.Leaves);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                leaves.Add(LeafHash(reader.GetString(0)));
            }
        }

        try
        {
            _tree.LoadTile(missing.Tile, leaves);
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException)
        {
            // Records the tree already holds were changed or removed since they were appended: answer nothing from them.
            LogTileRewritten(logger, first, last, leaves.Count);
            throw LogRewrittenException.Records(first, last);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Merkle tree caught up with {Records} records in {Milliseconds} ms (tree size {Size})")]
    private static partial void LogCaughtUp(ILogger logger, long records, long milliseconds, long size);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Evidence records {First} to {Last} ({Found} found) no longer hash to the Merkle tree built when they were appended: they were changed or removed")]
    private static partial void LogTileRewritten(ILogger logger, long first, long last, int found);
}
