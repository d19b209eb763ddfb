using System.Diagnostics;
using ControlPlane.Evidence.Verification.Transparency;

namespace ControlPlane.Benchmarks.Evidence;

/// <summary>
/// What evidence's in-memory Merkle tree keeps for a log of 10^6 records: the managed heap after a full collection,
/// with the tree alive, minus before it (`-- tree-memory`). BenchmarkDotNet's allocated column counts garbage too.
/// </summary>
public static class MerkleTreeMemory
{
    public static void Run(int leaves = 1_000_000)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var clock = Stopwatch.StartNew();
        var tree = new MerkleTree();
        Span<byte> record = stackalloc byte[8];
        for (long i = 0; i < leaves; i++)
        {
            BitConverter.TryWriteBytes(record, i);
            tree.Append(record);
        }

        var built = clock.Elapsed;
        var kept = GC.GetTotalMemory(forceFullCollection: true) - before;
        Console.WriteLine($"Merkle tree of {tree.Size:N0} leaves: {kept / 1048576.0:F1} MB kept on the heap " +
            $"({kept / (double)tree.Size:F1} bytes a leaf), built in {built.TotalMilliseconds:F0} ms; root {Convert.ToHexStringLower(tree.RootHash())[..16]}…");
        GC.KeepAlive(tree);
    }
}
