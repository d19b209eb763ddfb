using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using ControlPlane.Contracts;

namespace ControlPlane.Benchmarks.Fleet;

/// <summary>
/// What fleet pays per work package (canonical JSON + ECDSA P-256 DSSE signature) and what a runner pays to check
/// one (base64, PAE, signature verification, payload parse), plus the runner's signed result.
/// </summary>
[MemoryDiagnoser]
public class WorkPackageSigningBenchmarks
{
    private ECDsa _fleetKey = null!;
    private ECDsa _fleetPublic = null!;
    private string _keyId = null!;
    private WorkPackage _package = null!;
    private DsseEnvelope _envelope = null!;
    private WorkResult _result = null!;

    [GlobalSetup]
    public void Setup()
    {
        _fleetKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _fleetPublic = SigningKeyIds.ImportPublicKey(SigningKeyIds.ExportPublicKey(_fleetKey), out _)!;
        _keyId = SigningKeyIds.Thumbprint(_fleetKey);
        var now = DateTimeOffset.UnixEpoch;
        _package = new WorkPackage(Guid.NewGuid(), Guid.NewGuid(), "sha256:" + new string('a', 64), WorkStep.Execute, "restart billing", "run-command",
            new Dictionary<string, string> { ["command"] = "restart-service", ["service"] = "billing", ["strategy"] = "rolling" },
            ["billing", "billing-worker"], "production", new Dictionary<string, long> { ["billing"] = 42, ["billing-worker"] = 17 },
            now, now.AddMinutes(10), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), "remediation-1", "remediation", "fleet");
        _envelope = Dsse.Sign(_package, WorkPackage.PayloadType, _fleetKey, _keyId);
        _result = new WorkResult(_package.WorkId, _package.ProposalId, WorkStep.Execute, "remediation-1", WorkOutcome.Succeeded, 0,
            TimeSpan.FromMilliseconds(812), "sha256:" + new string('b', 64), new string('x', 2048), null, now);
    }

    [Benchmark(Description = "fleet: sign a work package")]
    public DsseEnvelope SignPackage() => Dsse.Sign(_package, WorkPackage.PayloadType, _fleetKey, _keyId);

    [Benchmark(Description = "runner: verify a work package")]
    public byte[]? VerifyPackage() => Dsse.Verify(_envelope, WorkPackage.PayloadType, id => id == _keyId ? _fleetPublic : null, out _);

    [Benchmark(Description = "runner: sign a result (2 KiB excerpt)")]
    public DsseEnvelope SignResult() => Dsse.Sign(_result, WorkResult.PayloadType, _fleetKey, _keyId);

    [GlobalCleanup]
    public void Cleanup()
    {
        _fleetKey.Dispose();
        _fleetPublic.Dispose();
    }
}
