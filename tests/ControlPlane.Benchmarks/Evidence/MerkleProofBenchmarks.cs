using BenchmarkDotNet.Attributes;
using ControlPlane.Evidence.Verification.Transparency;

namespace ControlPlane.Benchmarks.Evidence;

/// <summary>
/// RFC 9162 proofs on a log of 10^6 leaves: verifying an inclusion proof (what the CLI does per bundle record) and a
/// consistency proof (what a witness does per checkpoint), building each from the in-memory tree, and building the
/// tree itself (what it keeps: `-- tree-memory`).
/// </summary>
[MemoryDiagnoser]
public class MerkleProofBenchmarks
{
    private const long Leaves = 1_000_000;
    private MerkleTree _tree = null!;
    private byte[] _root = null!;
    private byte[] _leafHash = null!;
    private IReadOnlyList<byte[]> _inclusion = null!;
    private byte[] _firstRoot = null!;
    private IReadOnlyList<byte[]> _consistency = null!;
    private const long Index = 723_456;
    private const long FirstSize = 654_321;

    [GlobalSetup]
    public void Setup()
    {
        _tree = new MerkleTree();
        Span<byte> record = stackalloc byte[8];
        for (long i = 0; i < Leaves; i++)
        {
            BitConverter.TryWriteBytes(record, i);
            _tree.Append(record);
        }

        _root = _tree.RootHash();
        _leafHash = _tree.LeafHash(Index);
        _inclusion = _tree.InclusionProof(Index, Leaves);
        _firstRoot = _tree.RootHash(FirstSize);
        _consistency = _tree.ConsistencyProof(FirstSize, Leaves);
        if (!VerifyInclusion() || !VerifyConsistency())
        {
            throw new InvalidOperationException("The benchmark proofs do not verify.");
        }

        Console.WriteLine($"// proof sizes at {Leaves} leaves: inclusion {_inclusion.Count} hashes, {_inclusion.Sum(h => h.Length)} bytes; " +
            $"consistency from {FirstSize} {_consistency.Count} hashes, {_consistency.Sum(h => h.Length)} bytes");
    }

    [Benchmark]
    public bool VerifyInclusion() => MerkleProofs.VerifyInclusion(Index, Leaves, _leafHash, _inclusion, _root);

    [Benchmark]
    public bool VerifyConsistency() => MerkleProofs.VerifyConsistency(FirstSize, Leaves, _firstRoot, _root, _consistency);

    [Benchmark]
    public int BuildInclusionProof() => _tree.InclusionProof(Index, Leaves).Count;

    [Benchmark]
    public int BuildConsistencyProof() => _tree.ConsistencyProof(FirstSize, Leaves).Count;

    [Benchmark]
    public long BuildTree()
    {
        var tree = new MerkleTree();
        Span<byte> leafHash = stackalloc byte[MerkleHash.Size];
        for (long i = 0; i < Leaves; i++)
        {
            BitConverter.TryWriteBytes(leafHash, i);
            tree.AppendLeafHash(leafHash.ToArray());
        }

        return tree.Size;
    }
}
