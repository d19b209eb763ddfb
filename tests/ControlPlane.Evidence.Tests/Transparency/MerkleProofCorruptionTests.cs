using ControlPlane.Evidence.Verification.Transparency;

namespace ControlPlane.Evidence.Tests.Transparency;

/// <summary>
/// The systematic corruptions of a valid proof: wrong index, wrong size, wrong root, truncated or extended proof,
/// swapped siblings and every single bit flip. Each must be refused, for inclusion and for consistency.
/// A wrong tree size is one of another height (twice or half the size): a proof fixes the shape of its path, and
/// sizes with the same shape (37 and 38 seen from leaf 8) share it - the signed checkpoint is what binds the size.
/// </summary>
public sealed class MerkleProofCorruptionTests
{
    private static readonly MerkleTree Tree = MerkleTreeTests.Tree(MerkleTreeTests.Leaves(37, seed: 9));

    public static TheoryData<long, long> InclusionCases => new() { { 0, 37 }, { 36, 37 }, { 17, 37 }, { 5, 8 }, { 6, 7 }, { 12, 33 } };

    public static TheoryData<long, long> ConsistencyCases => new() { { 1, 37 }, { 8, 37 }, { 13, 37 }, { 3, 7 }, { 4, 8 }, { 32, 33 }, { 6, 36 } };

    [Theory]
    [MemberData(nameof(InclusionCases))]
    public void A_corrupted_inclusion_proof_is_refused(long index, long size)
    {
        var leaf = Tree.LeafHash(index);
        var root = Tree.RootHash(size);
        var proof = Tree.InclusionProof(index, size);
        Assert.True(MerkleProofs.VerifyInclusion(index, size, leaf, proof, root));

        Assert.False(MerkleProofs.VerifyInclusion(index + 1, size, leaf, proof, root), "wrong index +1");
        Assert.False(MerkleProofs.VerifyInclusion(index - 1, size, leaf, proof, root), "wrong index -1");
        Assert.False(MerkleProofs.VerifyInclusion(index, size * 2, leaf, proof, root), "wrong size x2");
        Assert.False(MerkleProofs.VerifyInclusion(index, size / 2, leaf, proof, root), "wrong size /2");
        Assert.False(MerkleProofs.VerifyInclusion(index, size, leaf, proof, Tree.RootHash(size - 1)), "root of another size");
        Assert.False(MerkleProofs.VerifyInclusion(index, size, Tree.LeafHash((index + 1) % size), proof, root), "another leaf");
        Assert.False(MerkleProofs.VerifyInclusion(index, size, leaf, proof.SkipLast(1).ToList(), root), "truncated");
        Assert.False(MerkleProofs.VerifyInclusion(index, size, leaf, [.. proof, root], root), "extended");
        Assert.False(MerkleProofs.VerifyInclusion(index, size, leaf, [], root), "empty");
        foreach (var swapped in SwappedNeighbours(proof))
        {
            Assert.False(MerkleProofs.VerifyInclusion(index, size, leaf, swapped, root), "swapped siblings");
        }

        foreach (var (flipped, where) in BitFlips(proof))
        {
            Assert.False(MerkleProofs.VerifyInclusion(index, size, leaf, flipped, root), where);
        }

        foreach (var (flippedRoot, where) in BitFlips([root]))
        {
            Assert.False(MerkleProofs.VerifyInclusion(index, size, leaf, proof, flippedRoot[0]), "root " + where);
        }

        foreach (var (flippedLeaf, where) in BitFlips([leaf]))
        {
            Assert.False(MerkleProofs.VerifyInclusion(index, size, flippedLeaf[0], proof, root), "leaf " + where);
        }
    }

    [Theory]
    [MemberData(nameof(ConsistencyCases))]
    public void A_corrupted_consistency_proof_is_refused(long first, long second)
    {
        var firstRoot = Tree.RootHash(first);
        var secondRoot = Tree.RootHash(second);
        var proof = Tree.ConsistencyProof(first, second);
        Assert.True(MerkleProofs.VerifyConsistency(first, second, firstRoot, secondRoot, proof));

        Assert.False(MerkleProofs.VerifyConsistency(first + 1, second, firstRoot, secondRoot, proof), "wrong first size +1");
        Assert.False(MerkleProofs.VerifyConsistency(first - 1, second, firstRoot, secondRoot, proof), "wrong first size -1");
        Assert.False(MerkleProofs.VerifyConsistency(first, second * 2, firstRoot, secondRoot, proof), "wrong second size x2");
        Assert.False(MerkleProofs.VerifyConsistency(first, second / 2, firstRoot, secondRoot, proof), "wrong second size /2");
        Assert.False(MerkleProofs.VerifyConsistency(first, second, secondRoot, secondRoot, proof), "wrong first root");
        Assert.False(MerkleProofs.VerifyConsistency(first, second, firstRoot, firstRoot, proof), "wrong second root");
        Assert.False(MerkleProofs.VerifyConsistency(second, first, secondRoot, firstRoot, proof), "sizes reversed");
        Assert.False(MerkleProofs.VerifyConsistency(first, second, firstRoot, secondRoot, proof.SkipLast(1).ToList()), "truncated");
        Assert.False(MerkleProofs.VerifyConsistency(first, second, firstRoot, secondRoot, [.. proof, secondRoot]), "extended");
        Assert.False(MerkleProofs.VerifyConsistency(first, second, firstRoot, secondRoot, []), "empty");
        foreach (var swapped in SwappedNeighbours(proof))
        {
            Assert.False(MerkleProofs.VerifyConsistency(first, second, firstRoot, secondRoot, swapped), "swapped siblings");
        }

        foreach (var (flipped, where) in BitFlips(proof))
        {
            Assert.False(MerkleProofs.VerifyConsistency(first, second, firstRoot, secondRoot, flipped), where);
        }

        foreach (var (flipped, where) in BitFlips([firstRoot]))
        {
            Assert.False(MerkleProofs.VerifyConsistency(first, second, flipped[0], secondRoot, proof), "first root " + where);
        }

        foreach (var (flipped, where) in BitFlips([secondRoot]))
        {
            Assert.False(MerkleProofs.VerifyConsistency(first, second, firstRoot, flipped[0], proof), "second root " + where);
        }
    }

    [Fact]
    public void A_rewritten_history_is_not_consistent_with_the_old_root()
    {
        var leaves = MerkleTreeTests.Leaves(20, seed: 11);
        var original = MerkleTreeTests.Tree(leaves);
        var rewritten = MerkleTreeTests.Tree(leaves.Select((leaf, i) => i == 4 ? [.. leaf, 0x42] : leaf));

        // The rewritten log proves consistency from its own old root, but not from the root a reader kept.
        var proof = rewritten.ConsistencyProof(10, 20);
        Assert.True(MerkleProofs.VerifyConsistency(10, 20, rewritten.RootHash(10), rewritten.RootHash(20), proof));
        Assert.False(MerkleProofs.VerifyConsistency(10, 20, original.RootHash(10), rewritten.RootHash(20), proof));
    }

    [Fact]
    public void Equal_sizes_and_the_empty_tree_are_edge_cases_with_empty_proofs()
    {
        var root = Tree.RootHash(9);
        Assert.True(MerkleProofs.VerifyConsistency(9, 9, root, root, []));
        Assert.False(MerkleProofs.VerifyConsistency(9, 9, root, Tree.RootHash(10), []));
        Assert.False(MerkleProofs.VerifyConsistency(9, 9, root, root, [root]));
        Assert.True(MerkleProofs.VerifyConsistency(0, 9, MerkleHash.EmptyRoot(), root, []));
        Assert.False(MerkleProofs.VerifyConsistency(0, 9, MerkleHash.EmptyRoot(), root, [root]));
        Assert.False(MerkleProofs.VerifyInclusion(0, 0, Tree.LeafHash(0), [], MerkleHash.EmptyRoot()));
        Assert.True(MerkleProofs.VerifyInclusion(0, 1, Tree.LeafHash(0), [], Tree.RootHash(1)));
    }

    private static IEnumerable<List<byte[]>> SwappedNeighbours(IReadOnlyList<byte[]> proof)
    {
        for (var i = 0; i + 1 < proof.Count; i++)
        {
            if (proof[i].AsSpan().SequenceEqual(proof[i + 1]))
            {
                continue;
            }

            var swapped = proof.ToList();
            (swapped[i], swapped[i + 1]) = (swapped[i + 1], swapped[i]);
            yield return swapped;
        }
    }

    private static IEnumerable<(List<byte[]> Proof, string Where)> BitFlips(IReadOnlyList<byte[]> proof)
    {
        for (var i = 0; i < proof.Count; i++)
        {
            for (var bit = 0; bit < MerkleHash.Size * 8; bit++)
            {
                var copy = proof.Select(h => (byte[])h.Clone()).ToList();
                copy[i][bit / 8] ^= (byte)(1 << (bit % 8));
                yield return (copy, $"bit {bit} of hash {i} flipped");
            }
        }
    }
}
