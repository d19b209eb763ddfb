using ControlPlane.Evidence.Verification.Transparency;
using Npgsql;

namespace ControlPlane.Evidence.Transparency;

/// <summary>
/// The evidence log's Merkle tree, kept in memory and caught up from evidence-db before each use (the database is
/// the only source; every replica builds the same tree). Leaf i is record i + 1; its leaf data is the UTF-8 text of
/// the record hash, which already commits to every field of the record and to the chain before it.
/// </summary>
public sealed class EvidenceTree(NpgsqlDataSource dataSource)
{
    private readonly MerkleTree _tree = new();
    private readonly SemaphoreSlim _gate = new(1, 1);

    public static byte[] LeafHash(string recordHash) => BundleLogVerifier.LeafHash(recordHash);

    /// <summary>Catches up with the log, then runs <paramref name="read"/> on the tree with no append in between.</summary>
    public async Task<T> ReadAsync<T>(Func<MerkleTree, T> read, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await CatchUpAsync(cancellationToken);
            return read(_tree);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task CatchUpAsync(CancellationToken cancellationToken)
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
}
