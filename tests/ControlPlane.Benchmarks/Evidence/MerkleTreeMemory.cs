using System.Diagnostics;
using ControlPlane.Evidence.Verification.Transparency;

namespace ControlPlane.Benchmarks.Evidence;

/// <summary>
/// What a Merkle tree of 10^6 records keeps in memory, keeping every hash (as a verifier's does) and keeping only the
/// tiles' roots and above (as evidence's does): the managed heap after a full collection, with the tree alive, minus
/// before it (`-- tree-memory`). BenchmarkDotNet's allocated column counts garbage too.
/// </summary>
public static class MerkleTreeMemory
{
    public static void Run(int leaves = 1_000_000)
    {
        Measure(leaves, keepCompleteTiles: true);
        Measure(leaves, keepCompleteTiles: false);
    }

    private static void Measure(int leaves, bool keepCompleteTiles)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var clock = Stopwatch.StartNew();
        var tree = new MerkleTree(keepCompleteTiles);
        Span<byte> record = stackalloc byte[8];
        for (long i = 0; i < leaves; i++)
        {
            BitConverter.TryWriteBytes(record, i);
            tree.Append(record);
        }

        var built = clock.Elapsed;
        var kept = GC.GetTotalMemory(forceFullCollection: true) - before;
        Console.WriteLine($"Merkle tree of {tree.Size:N0} leaves, {(keepCompleteTiles ? "every hash" : "tile roots and above")}: {kept / 1048576.0:F2} MB kept on the heap " +
            $"({kept / (double)tree.Size:F1} bytes a leaf), built in {built.TotalMilliseconds:F0} ms; root {Convert.ToHexStringLower(tree.RootHash())[..16]}…");
        GC.KeepAlive(tree);
    }
}
