namespace ControlPlane.Evidence.Verification.Transparency;

/// <summary>
/// The lower levels of one tile of a <see cref="MerkleTree"/>: the hashes of its leaves and of every complete subtree
/// below the tile's root (level 0 holds 2^height leaf hashes, level height - 1 two), back to back in one array of
/// under 16 KB for the default height. The tile's root itself belongs to the tree's upper levels.
/// </summary>
internal sealed class MerkleTile
{
    private readonly int _height;
    private readonly byte[] _hashes;

    public MerkleTile(int height)
    {
        _height = height;
        // 2^h + 2^(h-1) + ... + 2 hashes.
        _hashes = new byte[((2 << height) - 2) * MerkleHash.Size];
    }

    public ReadOnlySpan<byte> this[int level, int position] => Slot(level, position);

    public void Set(int level, int position, ReadOnlySpan<byte> hash) => hash.CopyTo(Slot(level, position));

    /// <summary>Builds a complete tile from its leaf hashes; returns its root.</summary>
    public static MerkleTile FromLeaves(int height, IReadOnlyList<byte[]> leafHashes, Span<byte> root)
    {
        var tile = new MerkleTile(height);
        var width = 1 << height;
        if (leafHashes.Count != width)
        {
            throw new ArgumentException($"A tile holds {width} leaves, not {leafHashes.Count}.", nameof(leafHashes));
        }

        for (var i = 0; i < width; i++)
        {
            MerkleHash.ThrowIfNotHash(leafHashes[i], nameof(leafHashes));
            tile.Set(0, i, leafHashes[i]);
        }

        for (var level = 1; level < height; level++)
        {
            for (var position = 0; position < width >> level; position++)
            {
                MerkleHash.Node(tile[level - 1, 2 * position], tile[level - 1, (2 * position) + 1], tile.Slot(level, position));
            }
        }

        MerkleHash.Node(tile[height - 1, 0], tile[height - 1, 1], root);
        return tile;
    }

    // Level l starts after the 2^h + ... + 2^(h-l+1) hashes of the levels below it.
    private Span<byte> Slot(int level, int position)
    {
        var start = (2 << _height) - (2 << (_height - level));
        return _hashes.AsSpan((start + position) * MerkleHash.Size, MerkleHash.Size);
    }
}
