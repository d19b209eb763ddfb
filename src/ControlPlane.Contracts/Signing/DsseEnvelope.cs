namespace ControlPlane.Contracts;

/// <summary>A DSSE envelope (https://github.com/secure-systems-lab/dsse): base64 payload, its type, signatures.</summary>
public sealed record DsseEnvelope(string PayloadType, string Payload, IReadOnlyList<DsseSignature> Signatures);

/// <summary>One signature over PAE(payloadType, payload); KeyId names the key in the signer's published key set.</summary>
public sealed record DsseSignature(string KeyId, string Sig);
