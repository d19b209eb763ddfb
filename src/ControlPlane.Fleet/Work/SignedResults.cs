using System.Text.Json;
using ControlPlane.Contracts;

namespace ControlPlane.Fleet.Work;

public enum ResultCheck
{
    Valid,
    BadSignature,
    BadContent,
}

/// <summary>A runner's signed result after verification; PayloadDigest names the signed bytes (for idempotency).</summary>
public sealed record OpenedResult(ResultCheck Check, WorkResult? Result, string? Failure, string? PayloadDigest);

/// <summary>A runner's signed acknowledgement after verification.</summary>
public sealed record OpenedAck(ResultCheck Check, WorkAck? Ack, string? Failure);

/// <summary>
/// Verifies what a runner signs (results and acknowledgements) against the one key the runner registered, and that
/// it speaks about the work and the runner it claims. Pure: no I/O.
/// </summary>
public static class SignedResults
{
    public static OpenedResult Open(DsseEnvelope? envelope, string runnerId, string keyId, string publicKey, Guid workId)
    {
        var (check, result, failure, digest) = Open<WorkResult>(envelope, WorkResult.PayloadType, "work result", runnerId, keyId, publicKey);
        if (result is null)
        {
            return new OpenedResult(check, null, failure, null);
        }

        return About(result.WorkId, result.RunnerId, workId, runnerId) is { } wrong
            ? new OpenedResult(ResultCheck.BadContent, null, $"the signed result {wrong}", null)
            : new OpenedResult(ResultCheck.Valid, result, null, digest);
    }

    public static OpenedAck OpenAck(DsseEnvelope? envelope, string runnerId, string keyId, string publicKey, Guid workId)
    {
        var (check, ack, failure, _) = Open<WorkAck>(envelope, WorkAck.PayloadType, "work acknowledgement", runnerId, keyId, publicKey);
        if (ack is null)
        {
            return new OpenedAck(check, null, failure);
        }

        if (string.IsNullOrEmpty(ack.Nonce))
        {
            return new OpenedAck(ResultCheck.BadContent, null, "the signed acknowledgement names no package nonce");
        }

        return About(ack.WorkId, ack.RunnerId, workId, runnerId) is { } wrong
            ? new OpenedAck(ResultCheck.BadContent, null, $"the signed acknowledgement {wrong}")
            : new OpenedAck(ResultCheck.Valid, ack, null);
    }

    private static string? About(Guid signedWorkId, string? signedRunnerId, Guid workId, string runnerId)
    {
        if (signedWorkId != workId)
        {
            return $"is for work {signedWorkId}, not {workId}";
        }

        return string.Equals(signedRunnerId, runnerId, StringComparison.Ordinal) ? null : $"names runner '{signedRunnerId}', not '{runnerId}'";
    }

    private static (ResultCheck Check, T? Value, string? Failure, string? Digest) Open<T>(DsseEnvelope? envelope, string payloadType, string what,
        string runnerId, string keyId, string publicKey) where T : class
    {
        if (envelope is null || envelope.Payload is null || envelope.PayloadType is null ||
            envelope.Signatures is null || envelope.Signatures.Any(s => s?.KeyId is null || s.Sig is null))
        {
            return (ResultCheck.BadContent, null, "a DSSE envelope {payloadType, payload, signatures} is required", null);
        }

        using var key = SigningKeyIds.ImportPublicKey(publicKey, out var keyFailure);
        if (key is null)
        {
            return (ResultCheck.BadSignature, null, $"runner {runnerId}'s registered key is unusable: {keyFailure}", null);
        }

        var payload = Dsse.Verify(envelope, payloadType, id => string.Equals(id, keyId, StringComparison.Ordinal) ? key : null, out var failure);
        if (payload is null)
        {
            return (ResultCheck.BadSignature, null, $"the envelope does not verify against runner {runnerId}'s registered key {keyId}: {failure}", null);
        }

        T? value;
        try
        {
            value = JsonSerializer.Deserialize<T>(payload, ContractJson.Options);
        }
        catch (JsonException ex)
        {
            return (ResultCheck.BadContent, null, $"the signed payload is not a {what}: {ex.Message}", null);
        }

        return value is null
            ? (ResultCheck.BadContent, null, "the signed payload is empty", null)
            : (ResultCheck.Valid, value, null, CanonicalJson.HashBytes(payload));
    }
}
