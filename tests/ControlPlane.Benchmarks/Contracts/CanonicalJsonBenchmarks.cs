using BenchmarkDotNet.Attributes;
using ControlPlane.Contracts;

namespace ControlPlane.Benchmarks.Contracts;

/// <summary>The content hash every proposal, approval and evidence record pays for.</summary>
[MemoryDiagnoser]
public class CanonicalJsonBenchmarks
{
    private ProposalSubmitted _proposal = null!;

    [GlobalSetup]
    public void Setup() => _proposal = new ProposalSubmitted(
        Guid.NewGuid(), "sha256:00", "remediation-agent", "sam@example.com", "remediation",
        new ProposedAction("restart", "Restart billing to clear a memory leak", new Dictionary<string, string> { ["replicas"] = "3", ["strategy"] = "rolling" }),
        ["billing", "billing-worker"], "production",
        new ChangeReference("sha256:abc", "git@example.com:billing.git#a1b2c3", "roll back to the previous image"),
        DateTimeOffset.UnixEpoch);

    [Benchmark]
    public string HashProposal() => CanonicalJson.Hash(_proposal);
}
