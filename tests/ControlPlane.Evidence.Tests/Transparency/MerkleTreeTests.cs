using ControlPlane.Evidence.Verification.Transparency;

namespace ControlPlane.Evidence.Tests.Transparency;

public sealed class MerkleTreeTests
{
    // The leaves and roots of the RFC 6962 reference test vectors (Certificate Transparency), which RFC 9162 keeps.
    private static readonly byte[][] VectorLeaves =
    [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
    ];

    [Theory]
    [InlineData(1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")]
    [InlineData(2, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]
    [InlineData(3, "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77")]
    [InlineData(4, "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]
    [InlineData(5, "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4")]
    [InlineData(6, "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef")]
    [InlineData(7, "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c")]
    [InlineData(8, "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
    public void Roots_match_the_reference_vectors(int size, string expectedRoot)
    {
        var tree = new MerkleTree();
        foreach (var leaf in VectorLeaves)
        {
            tree.Append(leaf);
        }

        Assert.Equal(expectedRoot, Convert.ToHexStringLower(tree.RootHash(size)));
    }

    [Fact]
    public void The_empty_tree_has_the_hash_of_the_empty_string() =>
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Convert.ToHexStringLower(new MerkleTree().RootHash()));

    [Fact]
    public void Every_earlier_root_equals_the_plain_recursive_definition()
    {
        var leaves = Leaves(70, seed: 1);
        var tree = Tree(leaves);
        for (var size = 1; size <= leaves.Count; size++)
        {
            Assert.Equal(ReferenceRoot(leaves.Take(size).ToList()), tree.RootHash(size));
        }
    }

    [Fact]
    public void A_tree_past_several_storage_pages_keeps_every_hash_and_proof()
    {
        // Tiles of two leaves, so the levels above them hold 2,560 and 1,280 hashes: the first crosses a storage page
        // boundary (pages hold 2,048 hashes), and the first page grows on the way.
        var leaves = Leaves(5120, seed: 5);
        var tree = new MerkleTree(keepCompleteTiles: true, tileHeight: 1);
        leaves.ForEach(leaf => tree.Append(leaf));
        foreach (var size in new[] { 1, 2047, 2048, 2049, 4096, 4097, leaves.Count })
        {
            Assert.Equal(ReferenceRoot(leaves.Take(size).ToList()), tree.RootHash(size));
        }

        var root = tree.RootHash();
        foreach (var index in new long[] { 0, 2047, 2048, 4095, 4096, leaves.Count - 1 })
        {
            Assert.Equal(MerkleHash.Leaf(leaves[(int)index]), tree.LeafHash(index));
            Assert.True(MerkleProofs.VerifyInclusion(index, tree.Size, tree.LeafHash(index), tree.InclusionProof(index, tree.Size), root), $"leaf {index}");
        }

        Assert.True(MerkleProofs.VerifyConsistency(2049, tree.Size, tree.RootHash(2049), root, tree.ConsistencyProof(2049, tree.Size)));
    }

    [Fact]
    public void Every_inclusion_proof_verifies_for_all_trees_up_to_64_leaves()
    {
        var tree = Tree(Leaves(64, seed: 2));
        for (long size = 1; size <= 64; size++)
        {
            var root = tree.RootHash(size);
            for (long index = 0; index < size; index++)
            {
                var proof = tree.InclusionProof(index, size);
                Assert.True(MerkleProofs.VerifyInclusion(index, size, tree.LeafHash(index), proof, root), $"leaf {index} of {size}");
            }
        }
    }

    [Fact]
    public void Every_consistency_proof_verifies_for_all_pairs_up_to_64_leaves()
    {
        var tree = Tree(Leaves(64, seed: 3));
        for (long second = 0; second <= 64; second++)
        {
            for (long first = 0; first <= second; first++)
            {
                var proof = tree.ConsistencyProof(first, second);
                Assert.True(MerkleProofs.VerifyConsistency(first, second, tree.RootHash(first), tree.RootHash(second), proof), $"{first} -> {second}");
            }
        }
    }

    [Fact]
    public void Proofs_at_random_sizes_verify_and_have_logarithmic_length()
    {
        var random = new Random(20261204);
        var tree = Tree(Leaves(5_000, seed: 4));
        for (var trial = 0; trial < 300; trial++)
        {
            var second = random.NextInt64(1, tree.Size + 1);
            var first = random.NextInt64(1, second + 1);
            var index = random.NextInt64(0, second);
            var ceilLog2 = 64 - long.LeadingZeroCount(second - 1);

            var inclusion = tree.InclusionProof(index, second);
            Assert.True(inclusion.Count <= ceilLog2, $"inclusion proof of {inclusion.Count} hashes in a tree of {second}");
            Assert.True(MerkleProofs.VerifyInclusion(index, second, tree.LeafHash(index), inclusion, tree.RootHash(second)));

            var consistency = tree.ConsistencyProof(first, second);
            Assert.True(consistency.Count <= ceilLog2 + 1, $"consistency proof of {consistency.Count} hashes for {first} -> {second}");
            Assert.True(MerkleProofs.VerifyConsistency(first, second, tree.RootHash(first), tree.RootHash(second), consistency));
        }
    }

    [Fact]
    public void A_proof_for_a_size_the_tree_never_had_is_refused()
    {
        var tree = Tree(Leaves(5, seed: 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.InclusionProof(0, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.InclusionProof(5, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.ConsistencyProof(4, 3));
        Assert.Throws<ArgumentException>(() => tree.AppendLeafHash(new byte[31]));
    }

    internal static List<byte[]> Leaves(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var data = new byte[random.Next(0, 40)];
            random.NextBytes(data);
            return data;
        }).ToList();
    }

    internal static MerkleTree Tree(IEnumerable<byte[]> leaves)
    {
        var tree = new MerkleTree();
        foreach (var leaf in leaves)
        {
            tree.Append(leaf);
        }

        return tree;
    }

    // RFC 9162's MTH written as plainly as the RFC states it, to hold the cached tree to the definition.
    private static byte[] ReferenceRoot(List<byte[]> leaves)
    {
        if (leaves.Count == 1)
        {
            return MerkleHash.Leaf(leaves[0]);
        }

        var k = 1;
        while (k * 2 < leaves.Count)
        {
            k *= 2;
        }

        return MerkleHash.Node(ReferenceRoot(leaves[..k]), ReferenceRoot(leaves[k..]));
    }
}
