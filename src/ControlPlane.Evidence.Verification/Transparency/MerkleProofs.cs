namespace ControlPlane.Evidence.Verification.Transparency;

/// <summary>
/// Verifies RFC 9162 inclusion (section 2.1.3.2) and consistency (section 2.1.4.2) proofs. Pure and allocation-free:
/// the CLI, the console and a witness run this same code against a checkpoint they trust.
/// </summary>
public static class MerkleProofs
{
    /// <summary>True when <paramref name="proof"/> proves that the leaf with <paramref name="leafHash"/> is at
    /// <paramref name="index"/> of the tree of <paramref name="size"/> leaves whose root is <paramref name="root"/>.</summary>
    public static bool VerifyInclusion(long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        if (index < 0 || index >= size || leafHash.Length != MerkleHash.Size || root.Length != MerkleHash.Size)
        {
            return false;
        }

        long fn = index, sn = size - 1;
        Span<byte> r = stackalloc byte[MerkleHash.Size];
        leafHash.CopyTo(r);
        // An index loop: foreach over IReadOnlyList boxes its enumerator (the one allocation a verify made).
        for (var i = 0; i < proof.Count; i++)
        {
            var p = proof[i];
            if (sn == 0 || p.Length != MerkleHash.Size)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHash.Node(p, r, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHash.Node(r, p, r);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && r.SequenceEqual(root);
    }

    /// <summary>True when <paramref name="proof"/> proves that the tree of <paramref name="secondSize"/> leaves with
    /// <paramref name="secondRoot"/> extends the tree of <paramref name="firstSize"/> leaves with <paramref name="firstRoot"/>
    /// (append-only: nothing before firstSize was changed).</summary>
    public static bool VerifyConsistency(long firstSize, long secondSize, ReadOnlySpan<byte> firstRoot, ReadOnlySpan<byte> secondRoot, IReadOnlyList<byte[]> proof)
    {
        if (firstSize < 0 || firstSize > secondSize || firstRoot.Length != MerkleHash.Size || secondRoot.Length != MerkleHash.Size)
        {
            return false;
        }

        if (firstSize == secondSize)
        {
            // Same size: nothing to prove but that the roots are the same tree.
            return proof.Count == 0 && firstRoot.SequenceEqual(secondRoot);
        }

        if (firstSize == 0)
        {
            // Every tree extends the empty tree; a non-empty proof here is malformed.
            return proof.Count == 0;
        }

        if (proof.Count == 0)
        {
            return false;
        }

        // A first tree whose size is a power of two is a complete subtree of the second: its root starts the path.
        var powerOfTwo = (firstSize & (firstSize - 1)) == 0;
        var start = powerOfTwo ? 0 : 1;
        long fn = firstSize - 1, sn = secondSize - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        Span<byte> fr = stackalloc byte[MerkleHash.Size];
        Span<byte> sr = stackalloc byte[MerkleHash.Size];
        var seed = powerOfTwo ? firstRoot : proof[0];
        if (seed.Length != MerkleHash.Size)
        {
            return false;
        }

        seed.CopyTo(fr);
        seed.CopyTo(sr);
        for (var i = start; i < proof.Count; i++)
        {
            var c = proof[i];
            if (sn == 0 || c.Length != MerkleHash.Size)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHash.Node(c, fr, fr);
                MerkleHash.Node(c, sr, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHash.Node(sr, c, sr);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && fr.SequenceEqual(firstRoot) && sr.SequenceEqual(secondRoot);
    }
}
