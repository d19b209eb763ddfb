using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.Contracts;

/// <summary>
/// Signs and verifies DSSE envelopes with ECDSA P-256 / SHA-256 (DER signatures, as sigstore tooling expects).
/// The signature covers PAE(type, body) = "DSSEv1 len(type) type len(body) body", so neither the type nor the
/// body can be swapped.
/// </summary>
public static class Dsse
{
    public static byte[] PreAuthenticationEncoding(string payloadType, ReadOnlySpan<byte> payload)
    {
        var type = Encoding.UTF8.GetBytes(payloadType);
        var header = Encoding.ASCII.GetBytes($"DSSEv1 {type.Length} ");
        var middle = Encoding.ASCII.GetBytes($" {payload.Length} ");
        var pae = new byte[header.Length + type.Length + middle.Length + payload.Length];
        header.CopyTo(pae, 0);
        type.CopyTo(pae, header.Length);
        middle.CopyTo(pae, header.Length + type.Length);
        payload.CopyTo(pae.AsSpan(header.Length + type.Length + middle.Length));
        return pae;
    }

    public static DsseEnvelope Sign<T>(T statement, string payloadType, ECDsa key, string keyId) =>
        Sign(CanonicalJson.Serialize(statement), payloadType, key, keyId);

    public static DsseEnvelope Sign(byte[] payload, string payloadType, ECDsa key, string keyId)
    {
        ArgumentNullException.ThrowIfNull(key);
        var signature = key.SignData(PreAuthenticationEncoding(payloadType, payload), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new DsseEnvelope(payloadType, Convert.ToBase64String(payload), [new DsseSignature(keyId, Convert.ToBase64String(signature))]);
    }

    /// <summary>
    /// Verifies the envelope against the named keys. Returns the payload on success, or null with the reason.
    /// Every signature present must name a known key and verify; at least one must exist.
    /// </summary>
    public static byte[]? Verify(DsseEnvelope envelope, string expectedPayloadType, Func<string, ECDsa?> keyById, out string? failure)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(keyById);
        failure = null;
        if (!string.Equals(envelope.PayloadType, expectedPayloadType, StringComparison.Ordinal))
        {
            failure = $"payload type is '{envelope.PayloadType}', expected '{expectedPayloadType}'";
            return null;
        }

        if (envelope.Signatures is not { Count: > 0 })
        {
            failure = "envelope has no signature";
            return null;
        }

        byte[] payload;
        try
        {
            payload = Convert.FromBase64String(envelope.Payload);
        }
        catch (FormatException)
        {
            failure = "payload is not valid base64";
            return null;
        }

        var pae = PreAuthenticationEncoding(envelope.PayloadType, payload);
        foreach (var signature in envelope.Signatures)
        {
            var key = keyById(signature.KeyId);
            if (key is null)
            {
                failure = $"signature names unknown key '{signature.KeyId}'";
                return null;
            }

            byte[] sig;
            try
            {
                sig = Convert.FromBase64String(signature.Sig);
            }
            catch (FormatException)
            {
                failure = $"signature by '{signature.KeyId}' is not valid base64";
                return null;
            }

            if (!key.VerifyData(pae, sig, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence))
            {
                failure = $"signature by '{signature.KeyId}' does not verify";
                return null;
            }
        }

        return payload;
    }
}
