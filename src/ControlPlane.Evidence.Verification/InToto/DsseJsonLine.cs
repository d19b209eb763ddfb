using System.Text.Json;
using System.Text.Json.Serialization;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;

namespace ControlPlane.Evidence.Verification.InToto;

/// <summary>
/// A DSSE envelope as one line of JSON, spelled as the DSSE spec spells it ("payloadType", "payload", "signatures"
/// of {"keyid", "sig"}), so in-toto tooling reads ControlPlane's attestation bundles. Signing and verification stay
/// in <see cref="Dsse"/>; this is only the spelling. Reading is strict: unknown, repeated or missing members fail.
/// </summary>
public static class DsseJsonLine
{
    private static readonly JsonSerializerOptions Compact = new(EvidenceFormat.Json) { WriteIndented = false };

    public static string Write(DsseEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return JsonSerializer.Serialize(new Envelope(envelope.PayloadType, envelope.Payload,
            [.. envelope.Signatures.Select(s => new Signature(s.KeyId, s.Sig))]), Compact);
    }

    /// <summary>The envelope on this line, or null with the reason it is not one.</summary>
    public static DsseEnvelope? Read(string line, out string? failure)
    {
        failure = null;
        try
        {
            var envelope = JsonSerializer.Deserialize<Envelope>(line, Compact);
            if (envelope is not null)
            {
                return new DsseEnvelope(envelope.PayloadType, envelope.Payload, [.. envelope.Signatures.Select(s => new DsseSignature(s.KeyId, s.Sig))]);
            }
        }
        catch (JsonException ex)
        {
            failure = $"not a DSSE envelope: {ex.Message}";
            return null;
        }

        failure = "not a DSSE envelope: null";
        return null;
    }

    private sealed record Envelope(string PayloadType, string Payload, IReadOnlyList<Signature> Signatures);

    private sealed record Signature([property: JsonPropertyName("keyid")] string KeyId, string Sig);
}
