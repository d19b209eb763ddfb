using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;

namespace ControlPlane.Evidence.Verification;

/// <summary>The verifier's pure helpers: record shape, labels, and comparing summary sections with what the records say.</summary>
public static partial class EvidenceBundleVerifier
{
    private sealed partial class Run
    {
        private static string? RecordShape(EvidenceRecord record, string label) =>
            record switch
            {
                { Sequence: <= 0 } => $"{label}: sequence must be positive",
                { Kind.Length: 0 } => $"{label}: kind is empty",
                _ when !EvidenceFormat.IsId(record.RecordId) => $"{label}: recordId is not a lowercase UUID",
                { ProposalId: { } id } when !EvidenceFormat.IsId(id) => $"{label}: proposalId is not a lowercase UUID",
                _ when !EvidenceFormat.IsTimestamp(record.OccurredAt) => $"{label}: occurredAt is not a UTC timestamp with microseconds",
                _ when !EvidenceFormat.IsTimestamp(record.RecordedAt) => $"{label}: recordedAt is not a UTC timestamp with microseconds",
                _ when !EvidenceFormat.IsHash(record.PayloadHash) => $"{label}: payloadHash is malformed",
                _ when !EvidenceFormat.IsHash(record.PrevHash) => $"{label}: prevHash is malformed",
                { ProposalPrevHash: { } link } when !EvidenceFormat.IsHash(link) => $"{label}: proposalPrevHash is malformed",
                _ when !EvidenceFormat.IsHash(record.RecordHash) => $"{label}: recordHash is malformed",
                _ => null,
            };

        private static string Label(EvidenceRecord record) => $"record {record.Sequence} ({record.Kind})";

        private static string KeyLabel(BundleKey key) => $"key '{key.KeyId}' {Label(key.Record)}";

        private static T? Decode<T>(byte[] payload) where T : class
        {
            try
            {
                return JsonSerializer.Deserialize<T>(payload, ContractJson.Options);
            }
            catch (JsonException)
            {
                return null;
            }
        }

        private static bool SameEnvelope(DsseEnvelope a, DsseEnvelope b) =>
            a.PayloadType == b.PayloadType && a.Payload == b.Payload && a.Signatures.SequenceEqual(b.Signatures);

        private static string? CompareItems<T>(string section, IReadOnlyList<T> actual, IReadOnlyList<T> expected, string kind, Func<T, long> sequence,
            Func<T, T, bool> same)
        {
            if (actual.Count != expected.Count)
            {
                return $"section '{section}' lists {actual.Count} entries, the records hold {expected.Count}";
            }

            for (var i = 0; i < actual.Count; i++)
            {
                if (!same(actual[i], expected[i]))
                {
                    return $"section '{section}'[{i}] differs from record {sequence(expected[i])} ({kind})";
                }
            }

            return null;
        }

        private static string? Compare(string section, JsonNode? actual, SectionSource? expected, string kind)
        {
            if (actual is null && expected is null)
            {
                return null;
            }

            if (expected is null)
            {
                return $"section '{section}' is present but the bundle holds no {kind} record";
            }

            return Same(actual, expected.Value) ? null : $"section '{section}' differs from record {expected.Sequence} ({expected.Kind})";
        }

        private static string? CompareList(string section, IReadOnlyList<JsonNode> actual, IReadOnlyList<(JsonNode Value, long Sequence, string Kind)> expected)
        {
            if (actual.Count != expected.Count)
            {
                return $"section '{section}' lists {actual.Count} entries, the records hold {expected.Count}";
            }

            for (var i = 0; i < actual.Count; i++)
            {
                if (!Same(actual[i], expected[i].Value))
                {
                    return $"section '{section}'[{i}] differs from record {expected[i].Sequence} ({expected[i].Kind})";
                }
            }

            return null;
        }

        private static bool Same(JsonNode? a, JsonNode? b) =>
            CanonicalJson.Serialize(a).AsSpan().SequenceEqual(CanonicalJson.Serialize(b));
    }
}
