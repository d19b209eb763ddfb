using ControlPlane.Evidence.Verification.Transparency;

namespace ControlPlane.Evidence.Tests.Transparency;

/// <summary>
/// A tree that drops its complete tiles answers exactly as one that keeps every hash, once the tiles a read asks for are
/// loaded back, and refuses leaves that do not hash to a tile's root. Tiles of 4 leaves, so a small tree has many.
/// </summary>
public sealed class MerkleTileTests
{
    private const int Height = 2;

    [Fact]
    public void Every_root_and_proof_equals_the_tree_that_keeps_every_hash()
    {
        var leaves = MerkleTreeTests.Leaves(70, seed: 11);
        var full = MerkleTreeTests.Tree(leaves);
        var pruned = Pruned(leaves);
        var loads = 0;
        for (long second = 1; second <= leaves.Count; second++)
        {
            Assert.Equal(full.RootHash(second), Read(pruned, leaves, t => t.RootHash(second), ref loads));
            for (long index = 0; index < second; index++)
            {
                Assert.Equal(full.InclusionProof(index, second), Read(pruned, leaves, t => t.InclusionProof(index, second), ref loads));
            }

            for (long first = 0; first <= second; first++)
            {
                Assert.Equal(full.ConsistencyProof(first, second), Read(pruned, leaves, t => t.ConsistencyProof(first, second), ref loads));
            }
        }

        Assert.Equal(full.LeafHash(5), Read(pruned, leaves, t => t.LeafHash(5), ref loads));
        Assert.True(loads > 0, "no read needed a dropped tile");
    }

    [Fact]
    public void Only_tile_roots_the_tile_being_filled_and_loaded_tiles_are_kept()
    {
        var leaves = MerkleTreeTests.Leaves(4 * 5 + 3, seed: 12);
        var pruned = Pruned(leaves);
        Assert.Equal(0, pruned.TilesInMemory);
        // The whole tree's root needs no complete tile's leaves; leaf 2's proof needs tile 0.
        Assert.Equal(MerkleTreeTests.Tree(leaves).RootHash(), pruned.RootHash());
        var missing = Assert.Throws<MissingMerkleTileException>(() => pruned.InclusionProof(2, pruned.Size));
        Assert.Equal((0, 0L, 4), (missing.Tile, missing.FirstLeaf, missing.Leaves));

        pruned.LoadTile(0, TileLeaves(leaves, 0));
        Assert.Equal(1, pruned.TilesInMemory);
        Assert.NotEmpty(pruned.InclusionProof(2, pruned.Size));
        pruned.ForgetLoadedTiles();
        Assert.Equal(0, pruned.TilesInMemory);
        Assert.Throws<MissingMerkleTileException>(() => pruned.InclusionProof(2, pruned.Size));

        // A tree that keeps its tiles never asks for one.
        var kept = new MerkleTree(keepCompleteTiles: true, tileHeight: Height);
        leaves.ForEach(leaf => kept.Append(leaf));
        Assert.Equal(5, kept.TilesInMemory);
        Assert.NotEmpty(kept.InclusionProof(2, kept.Size));
    }

    [Fact]
    public void Leaves_that_do_not_hash_to_the_tile_root_are_refused()
    {
        var leaves = MerkleTreeTests.Leaves(12, seed: 13);
        var pruned = Pruned(leaves);
        var changed = TileLeaves(leaves, 1);
        changed[3] = MerkleHash.Leaf([0x42]);
        Assert.Throws<InvalidDataException>(() => pruned.LoadTile(1, changed));
        Assert.Throws<ArgumentException>(() => pruned.LoadTile(1, TileLeaves(leaves, 1)[..3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => pruned.LoadTile(3, TileLeaves(leaves, 0)));
        Assert.Equal(0, pruned.TilesInMemory);
    }

    private static MerkleTree Pruned(List<byte[]> leaves)
    {
        var tree = new MerkleTree(keepCompleteTiles: false, tileHeight: Height);
        foreach (var leaf in leaves)
        {
            tree.Append(leaf);
        }

        return tree;
    }

    private static List<byte[]> TileLeaves(List<byte[]> leaves, int tile) =>
        [.. leaves.Skip(tile << Height).Take(1 << Height).Select(leaf => MerkleHash.Leaf(leaf))];

    // What EvidenceTree does: run the read, load the tile it misses, run it again; tiles are forgotten between reads.
    private static T Read<T>(MerkleTree tree, List<byte[]> leaves, Func<MerkleTree, T> read, ref int loads)
    {
        tree.ForgetLoadedTiles();
        while (true)
        {
            try
            {
                return read(tree);
            }
            catch (MissingMerkleTileException missing)
            {
                tree.LoadTile(missing.Tile, TileLeaves(leaves, (int)missing.Tile));
                loads++;
            }
        }
    }
}
