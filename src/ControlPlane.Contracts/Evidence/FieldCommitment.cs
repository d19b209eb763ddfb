using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace ControlPlane.Contracts.Evidence;

/// <summary>
/// A sensitive field committed by salted hash (verifiable redaction). In a record's payload the field's value is
/// replaced by the object <c>{"commitment":"sha256:&lt;hex&gt;"}</c>, so the payload hash, record hash and log leaf
/// cover the commitment, not the value. commitment = "sha256:" + hex(SHA-256(salt ‖ C)), where salt is 32 random
/// bytes fresh per field and C is the canonical JSON (<see cref="CanonicalJson"/>) of the value: a string value
/// hashes with its quotes and escapes, <c>"abc"</c>. Committed fields are strings by schema, so an object in
/// their place is unambiguous.
/// </summary>
/// <param name="Sequence">The record holding the commitment.</param>
/// <param name="Path">Where in the record's payload, as an RFC 6901 JSON Pointer ("/comment", "/action/parameters/apiToken").</param>
/// <param name="Commitment">"sha256:" + 64 lowercase hex digits, as the payload holds it.</param>
/// <param name="Value">The value, disclosed to a reader with evidence:read-sensitive; null when redacted.</param>
/// <param name="Salt">The salt, base64 (32 bytes); null when redacted.</param>
public sealed record BundleCommitment(long Sequence, string Path, string Commitment, JsonNode? Value, string? Salt)
{
    public bool Disclosed => Value is not null || Salt is not null;
}

public static class FieldCommitment
{
    public const int SaltBytes = 32;
    public const string Member = "commitment";

    /// <summary>"sha256:" + hex(SHA-256(salt ‖ canonical JSON of value)).</summary>
    public static string Compute(ReadOnlySpan<byte> salt, JsonNode? value) => Compute(salt, CanonicalJson.Serialize(value));

    public static string Compute(ReadOnlySpan<byte> salt, ReadOnlySpan<byte> canonicalValue)
    {
        var input = new byte[salt.Length + canonicalValue.Length];
        salt.CopyTo(input);
        canonicalValue.CopyTo(input.AsSpan(salt.Length));
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(input));
    }

    /// <summary>The object that stands in the payload where the value was.</summary>
    public static JsonObject Marker(string commitment) => new() { [Member] = commitment };

    /// <summary>True when <paramref name="node"/> is exactly a commitment marker with a well-formed hash.</summary>
    public static bool IsMarker(JsonNode? node, out string commitment)
    {
        commitment = string.Empty;
        if (node is JsonObject { Count: 1 } marker && marker[Member] is JsonValue value && value.TryGetValue<string>(out var text) && EvidenceFormat.IsHash(text))
        {
            commitment = text;
            return true;
        }

        return false;
    }
}
