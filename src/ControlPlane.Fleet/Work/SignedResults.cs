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

/// <summary>
/// Verifies a runner's DSSE-signed WorkResult against the one key the runner registered, and that it speaks about
/// the work and the runner it claims. Pure: no I/O.
/// </summary>
public static class SignedResults
{
    public static OpenedResult Open(DsseEnvelope? envelope, string runnerId, string keyId, string publicKey, Guid workId)
    {
        if (envelope is null || envelope.Payload is null || envelope.PayloadType is null ||
            envelope.Signatures is null || envelope.Signatures.Any(s => s?.KeyId is null || s.Sig is null))
        {
            return new OpenedResult(ResultCheck.BadContent, null, "a DSSE envelope {payloadType, payload, signatures} is required", null);
        }

        using var key = SigningKeyIds.ImportPublicKey(publicKey, out var keyFailure);
        if (key is null)
        {
            return new OpenedResult(ResultCheck.BadSignature, null, $"runner {runnerId}'s registered key is unusable: {keyFailure}", null);
        }

        var payload = Dsse.Verify(envelope, WorkResult.PayloadType, id => string.Equals(id, keyId, StringComparison.Ordinal) ? key : null, out var failure);
        if (payload is null)
        {
            return new OpenedResult(ResultCheck.BadSignature, null, $"the envelope does not verify against runner {runnerId}'s registered key {keyId}: {failure}", null);
        }

        WorkResult? result;
        try
        {
            result = JsonSerializer.Deserialize<WorkResult>(payload, ContractJson.Options);
        }
        catch (JsonException ex)
        {
            return new OpenedResult(ResultCheck.BadContent, null, $"the signed payload is not a work result: {ex.Message}", null);
        }

        if (result is null)
        {
            return new OpenedResult(ResultCheck.BadContent, null, "the signed payload is empty", null);
        }

        if (result.WorkId != workId)
        {
            return new OpenedResult(ResultCheck.BadContent, null, $"the signed result is for work {result.WorkId}, not {workId}", null);
        }

        if (!string.Equals(result.RunnerId, runnerId, StringComparison.Ordinal))
        {
            return new OpenedResult(ResultCheck.BadContent, null, $"the signed result names runner '{result.RunnerId}', not '{runnerId}'", null);
        }

        return new OpenedResult(ResultCheck.Valid, result, null, CanonicalJson.HashBytes(payload));
    }
}
