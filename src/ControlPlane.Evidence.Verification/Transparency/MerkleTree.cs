namespace ControlPlane.Evidence.Verification.Transparency;

/// <summary>
/// An append-only RFC 9162 Merkle tree in memory: roots of any earlier size, inclusion and consistency proofs
/// (sections 2.1.3.1 and 2.1.4.1). It keeps every complete, aligned subtree hash (level i holds the hashes of the
/// subtrees of 2^i leaves), so a root or a proof costs O(log n) hashes, not O(n).
/// The levels below <see cref="TileHeight"/> are kept per tile of 2^TileHeight leaves (256 by default, the width of
/// C2SP tlog-tiles). A tree that keeps complete tiles (the default) holds about two hashes per leaf; one that does not
/// holds only the tiles' roots and the levels above them (1/128 of a hash per leaf), plus the tile being filled and
/// the tiles loaded back with <see cref="LoadTile"/>: a read that needs another throws <see cref="MissingMerkleTileException"/>.
/// </summary>
public sealed class MerkleTree
{
    public const int DefaultTileHeight = 8;

    // Levels TileHeight and up: _upper[i] holds level TileHeight + i.
    private readonly List<HashLevel> _upper = [new()];
    private readonly Dictionary<long, MerkleTile> _tiles = [];
    private readonly bool _keepCompleteTiles;
    private MerkleTile _filling;

    /// <summary>A tree that keeps every hash.</summary>
    public MerkleTree()
        : this(keepCompleteTiles: true)
    {
    }

    /// <param name="keepCompleteTiles">False: a completed tile is dropped, and loaded back when a read needs it.</param>
    /// <param name="tileHeight">Levels per tile (1 to 16); 2^tileHeight leaves a tile.</param>
    public MerkleTree(bool keepCompleteTiles, int tileHeight = DefaultTileHeight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tileHeight, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tileHeight, 16);
        TileHeight = tileHeight;
        _keepCompleteTiles = keepCompleteTiles;
        _filling = new MerkleTile(tileHeight);
    }

    public long Size { get; private set; }

    public int TileHeight { get; }

    private int TileWidth => 1 << TileHeight;

    /// <summary>How many complete tiles are in memory (all of them if the tree keeps them, else the loaded ones).</summary>
    public int TilesInMemory => _tiles.Count;

    /// <summary>Appends a leaf by its data; returns its index.</summary>
    public long Append(ReadOnlySpan<byte> data) => AppendLeafHash(MerkleHash.Leaf(data));

    /// <summary>Appends a leaf by its RFC 9162 leaf hash; returns its index.</summary>
    public long AppendLeafHash(byte[] leafHash)
    {
        MerkleHash.ThrowIfNotHash(leafHash, nameof(leafHash));

        var index = Size;
        var position = (int)(index & (TileWidth - 1));
        _filling.Set(0, position, leafHash);
        // Each completed pair completes a subtree one level up, inside the tile and then above it.
        Span<byte> node = stackalloc byte[MerkleHash.Size];
        leafHash.CopyTo(node);
        var level = 0;
        for (; level < TileHeight && (position & 1) == 1; level++, position >>= 1)
        {
            MerkleHash.Node(_filling[level, position - 1], node, node);
            if (level + 1 < TileHeight)
            {
                _filling.Set(level + 1, position >> 1, node);
            }
        }

        Size++;
        if (level < TileHeight)
        {
            return index;
        }

        // The tile is complete: its root joins the upper levels.
        if (_keepCompleteTiles)
        {
            _tiles.Add(index >> TileHeight, _filling);
        }

        _filling = new MerkleTile(TileHeight);
        _upper[0].Add(node);
        for (var upper = 0; (_upper[upper].Count & 1) == 0; upper++)
        {
            var siblings = _upper[upper];
            MerkleHash.Node(siblings[siblings.Count - 2], node, node);
            if (_upper.Count == upper + 1)
            {
                _upper.Add(new HashLevel());
            }

            _upper[upper + 1].Add(node);
        }

        return index;
    }

    /// <summary>
    /// Puts a complete tile back in memory from its leaf hashes (leaves tile × 2^TileHeight onwards), after checking
    /// that they hash to the root the tree holds for it: a source that changed since the leaves were appended is refused.
    /// </summary>
    public void LoadTile(long tile, IReadOnlyList<byte[]> leafHashes)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        if (tile < 0 || tile >= Size >> TileHeight)
        {
            throw new ArgumentOutOfRangeException(nameof(tile), tile, $"The tree has {Size >> TileHeight} complete tiles.");
        }

        Span<byte> root = stackalloc byte[MerkleHash.Size];
        var loaded = MerkleTile.FromLeaves(TileHeight, leafHashes, root);
        if (!root.SequenceEqual(_upper[0][checked((int)tile)]))
        {
            throw new InvalidDataException($"The leaves given for Merkle tile {tile} do not hash to the root the tree holds for it.");
        }

        _tiles[tile] = loaded;
    }

    /// <summary>Drops the loaded tiles (a tree that keeps complete tiles keeps them).</summary>
    public void ForgetLoadedTiles()
    {
        if (!_keepCompleteTiles)
        {
            _tiles.Clear();
        }
    }

    public byte[] LeafHash(long index)
    {
        if (index < 0 || index >= Size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The tree has {Size} leaves.");
        }

        return Stored(0, index);
    }

    /// <summary>The root of the tree as it was when it had <paramref name="size"/> leaves.</summary>
    public byte[] RootHash(long size)
    {
        CheckSize(size);
        return size == 0 ? MerkleHash.EmptyRoot() : RangeHash(0, size);
    }

    public byte[] RootHash() => RootHash(Size);

    /// <summary>The audit path of leaf <paramref name="index"/> in the tree of <paramref name="size"/> leaves.</summary>
    public IReadOnlyList<byte[]> InclusionProof(long index, long size)
    {
        CheckSize(size);
        if (index < 0 || index >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The tree of {size} leaves has no leaf {index}.");
        }

        var proof = new List<byte[]>();
        Path(index, 0, size, proof);
        return proof;
    }

    /// <summary>The proof that the tree of <paramref name="secondSize"/> leaves extends the one of <paramref name="firstSize"/>.</summary>
    public IReadOnlyList<byte[]> ConsistencyProof(long firstSize, long secondSize)
    {
        CheckSize(secondSize);
        if (firstSize < 0 || firstSize > secondSize)
        {
            throw new ArgumentOutOfRangeException(nameof(firstSize), firstSize, $"A consistency proof goes from a smaller tree to a larger one (0 ≤ first ≤ {secondSize}).");
        }

        var proof = new List<byte[]>();
        if (firstSize > 0 && firstSize < secondSize)
        {
            SubProof(firstSize, 0, secondSize, completeSubtree: true, proof);
        }

        return proof;
    }

    // PATH(m, D[start:end]) of RFC 9162 2.1.3.1, with hashes appended leaf-side first.
    private void Path(long m, long start, long end, List<byte[]> proof)
    {
        var n = end - start;
        if (n == 1)
        {
            return;
        }

        var k = MerkleHash.Split(n);
        if (m < k)
        {
            Path(m, start, start + k, proof);
            proof.Add(RangeHash(start + k, end));
        }
        else
        {
            Path(m - k, start + k, end, proof);
            proof.Add(RangeHash(start, start + k));
        }
    }

    // SUBPROOF(m, D[start:end], b) of RFC 9162 2.1.4.1.
    private void SubProof(long m, long start, long end, bool completeSubtree, List<byte[]> proof)
    {
        var n = end - start;
        if (m == n)
        {
            if (!completeSubtree)
            {
                proof.Add(RangeHash(start, end));
            }

            return;
        }

        var k = MerkleHash.Split(n);
        if (m <= k)
        {
            SubProof(m, start, start + k, completeSubtree, proof);
            proof.Add(RangeHash(start + k, end));
        }
        else
        {
            SubProof(m - k, start + k, end, completeSubtree: false, proof);
            proof.Add(RangeHash(start, start + k));
        }
    }

    // MTH(D[start:end]). Every range the recursion asks for starts at a multiple of its largest power-of-two part,
    // so a complete range is one stored node and any other range splits into O(log n) of them.
    private byte[] RangeHash(long start, long end)
    {
        var n = end - start;
        if ((n & (n - 1)) == 0 && start % n == 0)
        {
            return Stored((int)long.TrailingZeroCount(n), start >> (int)long.TrailingZeroCount(n));
        }

        var k = MerkleHash.Split(n);
        return MerkleHash.Node(RangeHash(start, start + k), RangeHash(start + k, end));
    }

    // The hash of the complete subtree at this level and position: above the tiles, or in the tile it falls in.
    private byte[] Stored(int level, long position)
    {
        if (level >= TileHeight)
        {
            return _upper[level - TileHeight][checked((int)position)].ToArray();
        }

        var tile = position >> (TileHeight - level);
        var inTile = (int)(position & ((TileWidth >> level) - 1));
        if (tile == Size >> TileHeight)
        {
            return _filling[level, inTile].ToArray();
        }

        return _tiles.TryGetValue(tile, out var stored)
            ? stored[level, inTile].ToArray()
            : throw new MissingMerkleTileException(tile, tile << TileHeight, TileWidth);
    }

    private void CheckSize(long size)
    {
        if (size < 0 || size > Size)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"The tree has {Size} leaves.");
        }
    }
}
