namespace ControlPlane.Evidence.Verification.Transparency;

/// <summary>
/// An append-only RFC 9162 Merkle tree in memory: roots of any earlier size, inclusion and consistency proofs
/// (sections 2.1.3.1 and 2.1.4.1). It keeps every complete, aligned subtree hash (level i holds the hashes of the
/// subtrees of 2^i leaves), about two hashes per leaf, so a root or a proof costs O(log n) hashes, not O(n).
/// </summary>
public sealed class MerkleTree
{
    private readonly List<HashLevel> _levels = [new()];

    public long Size => _levels[0].Count;

    /// <summary>Appends a leaf by its data; returns its index.</summary>
    public long Append(ReadOnlySpan<byte> data) => AppendLeafHash(MerkleHash.Leaf(data));

    /// <summary>Appends a leaf by its RFC 9162 leaf hash; returns its index.</summary>
    public long AppendLeafHash(byte[] leafHash)
    {
        ArgumentNullException.ThrowIfNull(leafHash);
        if (leafHash.Length != MerkleHash.Size)
        {
            throw new ArgumentException($"A leaf hash has {MerkleHash.Size} bytes, not {leafHash.Length}.", nameof(leafHash));
        }

        var index = Size;
        _levels[0].Add(leafHash);
        // Each completed pair completes a subtree one level up.
        Span<byte> node = stackalloc byte[MerkleHash.Size];
        leafHash.CopyTo(node);
        for (var level = 0; (_levels[level].Count & 1) == 0; level++)
        {
            var siblings = _levels[level];
            MerkleHash.Node(siblings[siblings.Count - 2], node, node);
            if (_levels.Count == level + 1)
            {
                _levels.Add(new HashLevel());
            }

            _levels[level + 1].Add(node);
        }

        return index;
    }

    public byte[] LeafHash(long index) => _levels[0][checked((int)index)].ToArray();

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
            var level = long.TrailingZeroCount(n);
            return _levels[(int)level][checked((int)(start >> (int)level))].ToArray();
        }

        var k = MerkleHash.Split(n);
        return MerkleHash.Node(RangeHash(start, start + k), RangeHash(start + k, end));
    }

    private void CheckSize(long size)
    {
        if (size < 0 || size > Size)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"The tree has {Size} leaves.");
        }
    }
}
