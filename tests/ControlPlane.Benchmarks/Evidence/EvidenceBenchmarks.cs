using BenchmarkDotNet.Attributes;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification;
using ControlPlane.EvidenceScenarios;

namespace ControlPlane.Benchmarks.Evidence;

/// <summary>
/// Offline verification of a 1,000-record bundle (every hash, the chain links, 329 work-package and 329 result
/// signatures, the summary and the checkpoint), and the CPU side of one append (canonical JSON, both hashes).
/// Appends against the real PostgreSQL are measured by ConcurrentAppendTests in tests/ControlPlane.Evidence.Tests.
/// </summary>
[MemoryDiagnoser]
public class EvidenceBenchmarks
{
    private EvidenceScenario _scenario = null!;
    private byte[] _bundle = null!;
    private IReadOnlyList<EvidenceRecord> _records = null!;
    private EvidenceDraft _draft = null!;

    [GlobalSetup]
    public void Setup()
    {
        // 11 + 3 x 329 + 2 = 1,000 records, with 329 signed packages and 329 signed results.
        _scenario = EvidenceScenario.Create(workSteps: 329, interleave: false, refusals: 2);
        _records = _scenario.ProposalRecords;
        if (_records.Count != 1_000)
        {
            throw new InvalidOperationException($"The benchmark bundle holds {_records.Count} records, not 1,000.");
        }

        _bundle = _scenario.BundleJson();
        var verification = EvidenceBundleVerifier.Verify(_bundle);
        if (!verification.Ok)
        {
            throw new InvalidOperationException($"The benchmark bundle does not verify: {verification.Failure}");
        }

        var approval = _scenario.Events.First(e => e.Message is ApprovalRecorded);
        _draft = EvidenceDraft.From((ApprovalRecorded)approval.Message, approval.ProposalId, approval.Actor, approval.OccurredAt);
    }

    [GlobalCleanup]
    public void Cleanup() => _scenario.Dispose();

    [Benchmark(Description = "verify a 1,000-record bundle offline")]
    public bool VerifyBundle() => EvidenceBundleVerifier.Verify(_bundle).Ok;

    [Benchmark(Description = "recompute the chain of 1,000 records")]
    public long VerifyChainOnly()
    {
        var failures = 0L;
        foreach (var record in _records)
        {
            failures += EvidenceChain.CheckHashes(record) is null ? 0 : 1;
        }

        return failures;
    }

    [Benchmark(Description = "seal one record (canonical payload + both hashes)")]
    public string SealRecord() =>
        EvidenceChain.Seal(_draft, new ChainPosition(1_001, _records[^1].RecordHash, _records[^1].RecordHash), Guid.NewGuid(), DateTimeOffset.UnixEpoch).RecordHash;

    [Benchmark(Description = "build and sign a 1,000-record bundle")]
    public int BuildBundle() => _scenario.BundleJson().Length;
}
