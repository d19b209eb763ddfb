using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;

namespace ControlPlane.Evidence.Verification.Redaction;

/// <summary>What the redaction check found: how many committed fields were left out and how many were disclosed and checked.</summary>
public sealed record RedactionSummary(int Redacted, int Disclosed, IReadOnlyDictionary<string, string> DisclosedPayloads)
{
    public static readonly RedactionSummary None = new(0, 0, new Dictionary<string, string>(StringComparer.Ordinal));

    /// <summary>What the CLI prints: "N fields redacted (commitments intact)" and/or "N sensitive fields disclosed and checked".</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (Redacted > 0)
        {
            parts.Add($"{Redacted} {Fields(Redacted)} redacted (commitments intact)");
        }

        if (Disclosed > 0)
        {
            parts.Add($"{Disclosed} sensitive {Fields(Disclosed)} disclosed and checked");
        }

        return parts.Count == 0 ? "no sensitive fields" : string.Join("; ", parts);
    }

    /// <summary>
    /// A signed envelope as its signature can be checked: a committed payload (it stands as its commitment in the
    /// summary) replaced by the disclosed one; null when the payload is redacted.
    /// </summary>
    public DsseEnvelope? Resolve(DsseEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (!EvidenceFormat.IsHash(envelope.Payload))
        {
            return envelope;
        }

        return DisclosedPayloads.TryGetValue(envelope.Payload, out var payload) ? envelope with { Payload = payload } : null;
    }

    private static string Fields(int n) => n == 1 ? "field" : "fields";
}

/// <summary>
/// Checks a bundle's commitments section against its records, offline: every commitment marker the records hold
/// at a sensitive place (<see cref="SensitiveFields"/>) is listed once with the same commitment, nothing else is
/// listed, and every disclosed value with its salt hashes to its commitment. Failures name the record and field.
/// The records' own hashes are checked before this, so the commitments are those the log committed to.
/// </summary>
public static class RedactionVerifier
{
    public static string? Verify(EvidenceBundle bundle, out RedactionSummary summary)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        summary = RedactionSummary.None;
        var inRecords = new Dictionary<(long, string), (EvidenceRecord Record, string Commitment)>();
        foreach (var record in bundle.Records)
        {
            foreach (var (path, commitment) in SensitiveFields.Find(record))
            {
                inRecords[(record.Sequence, path)] = (record, commitment);
            }
        }

        var listed = bundle.Commitments ?? [];
        if (bundle.Commitments is null && inRecords.Count > 0)
        {
            var ((_, path), (record, _)) = inRecords.First();
            return $"{Label(record)} field {path} is committed, but the bundle carries no commitments section";
        }

        var seen = new HashSet<(long, string)>();
        var disclosed = new Dictionary<string, string>(StringComparer.Ordinal);
        var redacted = 0;
        foreach (var entry in listed)
        {
            if (entry is null)
            {
                return "commitments: an entry is null";
            }

            var key = (entry.Sequence, entry.Path);
            if (!seen.Add(key))
            {
                return $"commitments: record {entry.Sequence} field {entry.Path} is listed twice";
            }

            if (!inRecords.TryGetValue(key, out var found))
            {
                return $"commitments: record {entry.Sequence} field {entry.Path} is not a committed field of a record in the bundle";
            }

            var label = $"{Label(found.Record)} field {entry.Path}";
            if (!string.Equals(found.Commitment, entry.Commitment, StringComparison.Ordinal))
            {
                return $"{label}: the listed commitment differs from the one the record holds";
            }

            if (!entry.Disclosed)
            {
                redacted++;
                continue;
            }

            if (entry.Value is null || entry.Salt is null)
            {
                return $"{label}: disclosed with {(entry.Value is null ? "a salt but no value" : "a value but no salt")}";
            }

            if (!EvidenceFormat.TryDecodeStrictBase64(entry.Salt, out var salt) || salt.Length != FieldCommitment.SaltBytes)
            {
                return $"{label}: the salt is not base64 of {FieldCommitment.SaltBytes} bytes";
            }

            if (!string.Equals(FieldCommitment.Compute(salt, entry.Value), entry.Commitment, StringComparison.Ordinal))
            {
                return $"{label}: the disclosed value and salt do not match its commitment";
            }

            // A disclosed envelope payload: the work package or result check verifies its signature with it.
            if (entry.Path.EndsWith("/payload", StringComparison.Ordinal) && Text(entry.Value) is { } payload)
            {
                disclosed[entry.Commitment] = payload;
            }
        }

        foreach (var ((sequence, path), (record, _)) in inRecords)
        {
            if (!seen.Contains((sequence, path)))
            {
                return $"{Label(record)} field {path} is committed, but the bundle's commitments section does not list it";
            }
        }

        summary = new RedactionSummary(redacted, seen.Count - redacted, disclosed);
        return null;
    }

    private static string Label(EvidenceRecord record) => $"record {record.Sequence} ({record.Kind})";

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
