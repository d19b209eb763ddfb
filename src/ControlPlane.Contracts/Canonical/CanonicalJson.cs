using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ControlPlane.Contracts;

/// <summary>
/// A canonical JSON form for hashing and signing: the wire JSON (<see cref="ContractJson"/>) with object keys
/// sorted by ordinal, no insignificant white space, nulls omitted. Two parties that agree on the value agree on
/// the bytes, so a hash pins content rather than formatting. Non-ASCII text is written as UTF-8, not escaped
/// (as RFC 8785 does), so the same text always yields the same bytes whichever serializer produced it.
/// </summary>
public static class CanonicalJson
{
    public static byte[] Serialize<T>(T value) => Serialize(JsonSerializer.SerializeToNode(value, ContractJson.Options));

    public static byte[] Serialize(JsonNode? node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, node);
        }

        return buffer.ToArray();
    }

    /// <summary>"sha256:" + lowercase hex of the canonical bytes.</summary>
    public static string Hash<T>(T value) => HashBytes(Serialize(value));

    public static string HashBytes(ReadOnlySpan<byte> bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string ToText<T>(T value) => Encoding.UTF8.GetString(Serialize(value));

    private static void Write(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var (key, child) in obj.Where(p => p.Value is not null).OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(key);
                    Write(writer, child);
                }

                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var child in array)
                {
                    Write(writer, child);
                }

                writer.WriteEndArray();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }
}
