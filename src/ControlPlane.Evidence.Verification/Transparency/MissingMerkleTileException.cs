namespace ControlPlane.Evidence.Verification.Transparency;

/// <summary>
/// A read of a <see cref="MerkleTree"/> that does not keep complete tiles needed one it does not hold: the caller loads
/// that tile's leaf hashes (<see cref="MerkleTree.LoadTile"/>) and runs the read again.
/// </summary>
public sealed class MissingMerkleTileException(long tile, long firstLeaf, int leaves)
    : Exception($"Merkle tile {tile} (leaves {firstLeaf} to {firstLeaf + leaves - 1}) is not in memory.")
{
    public long Tile { get; } = tile;

    /// <summary>The index of the tile's first leaf.</summary>
    public long FirstLeaf { get; } = firstLeaf;

    public int Leaves { get; } = leaves;
}
