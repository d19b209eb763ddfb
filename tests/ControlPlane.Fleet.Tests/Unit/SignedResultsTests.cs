using System.Security.Cryptography;
using ControlPlane.Contracts;
using ControlPlane.Fleet.Work;

namespace ControlPlane.Fleet.Tests.Unit;

public sealed class SignedResultsTests : IDisposable
{
    private static readonly Guid WorkId = Guid.NewGuid();
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private string KeyId => SigningKeyIds.Thumbprint(_key);

    private string PublicKey => SigningKeyIds.ExportPublicKey(_key);

    private static WorkResult Result(string runner = "runner-1", Guid? workId = null) =>
        new(workId ?? WorkId, Guid.NewGuid(), WorkStep.Verify, runner, WorkOutcome.Succeeded, 0, TimeSpan.FromSeconds(1), "sha256:00", "ok", null, DateTimeOffset.UnixEpoch);

    [Fact]
    public void A_result_signed_by_the_registered_key_opens()
    {
        var envelope = Dsse.Sign(Result(), WorkResult.PayloadType, _key, KeyId);

        var opened = SignedResults.Open(envelope, "runner-1", KeyId, PublicKey, WorkId);

        Assert.Equal(ResultCheck.Valid, opened.Check);
        Assert.Equal(WorkOutcome.Succeeded, opened.Result!.Outcome);
        Assert.StartsWith("sha256:", opened.PayloadDigest, StringComparison.Ordinal);
    }

    [Fact]
    public void Another_key_a_tampered_payload_or_another_payload_type_is_a_bad_signature()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var byOther = Dsse.Sign(Result(), WorkResult.PayloadType, other, KeyId);
        var genuine = Dsse.Sign(Result(), WorkResult.PayloadType, _key, KeyId);
        var tampered = genuine with { Payload = Convert.ToBase64String(CanonicalJson.Serialize(Result() with { Outcome = WorkOutcome.Failed })) };
        var retyped = Dsse.Sign(Result(), WorkPackage.PayloadType, _key, KeyId);

        Assert.Equal(ResultCheck.BadSignature, SignedResults.Open(byOther, "runner-1", KeyId, PublicKey, WorkId).Check);
        Assert.Equal(ResultCheck.BadSignature, SignedResults.Open(tampered, "runner-1", KeyId, PublicKey, WorkId).Check);
        Assert.Equal(ResultCheck.BadSignature, SignedResults.Open(retyped, "runner-1", KeyId, PublicKey, WorkId).Check);
    }

    [Fact]
    public void A_genuine_result_about_other_work_or_another_runner_is_bad_content()
    {
        var otherWork = Dsse.Sign(Result(workId: Guid.NewGuid()), WorkResult.PayloadType, _key, KeyId);
        var otherRunner = Dsse.Sign(Result(runner: "runner-2"), WorkResult.PayloadType, _key, KeyId);

        Assert.Equal(ResultCheck.BadContent, SignedResults.Open(otherWork, "runner-1", KeyId, PublicKey, WorkId).Check);
        Assert.Equal(ResultCheck.BadContent, SignedResults.Open(otherRunner, "runner-1", KeyId, PublicKey, WorkId).Check);
    }

    [Fact]
    public void An_incomplete_envelope_is_bad_content_not_a_crash()
    {
        var noSig = new DsseEnvelope(WorkResult.PayloadType, "e30=", [new DsseSignature(KeyId, null!)]);

        Assert.Equal(ResultCheck.BadContent, SignedResults.Open(null, "runner-1", KeyId, PublicKey, WorkId).Check);
        Assert.Equal(ResultCheck.BadContent, SignedResults.Open(noSig, "runner-1", KeyId, PublicKey, WorkId).Check);
    }

    public void Dispose() => _key.Dispose();
}
