using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ControlPlane.Contracts.Evidence;

/// <summary>Evidence's checkpoint key: the private key and the id its SigningKeyPublished record names.</summary>
public sealed record EvidenceSigner(ECDsa Key, string KeyId);

/// <summary>The global chain head a checkpoint names.</summary>
public readonly record struct ChainHead(long Sequence, string RecordHash);

/// <summary>Assembles and signs a bundle from records; pure (no I/O), so tests and benchmarks build real bundles.</summary>
public static class EvidenceBundleBuilder
{
    /// <param name="proposalRecords">Every record of the proposal, in sequence order.</param>
    /// <param name="keyRecords">SigningKeyPublished records to pick the needed keys from (any order).</param>
    /// <param name="log">The checkpoint and inclusion proofs of the records and of the keys this method selects (see <see cref="KeySequences"/>).</param>
    /// <param name="commitments">The records' committed fields, disclosed or not (null: the bundle carries no commitments section).</param>
    public static EvidenceBundle Build(Guid proposalId, IReadOnlyList<EvidenceRecord> proposalRecords, IEnumerable<EvidenceRecord> keyRecords,
        ChainHead globalHead, EvidenceSigner signer, DateTimeOffset issuedAt, BundleLog? log = null, IReadOnlyList<BundleCommitment>? commitments = null)
    {
        ArgumentNullException.ThrowIfNull(proposalRecords);
        ArgumentNullException.ThrowIfNull(signer);
        if (proposalRecords.Count == 0)
        {
            throw new ArgumentException("A bundle needs at least one record.", nameof(proposalRecords));
        }

        var summary = BundleSections.Derive(proposalRecords);
        var keys = SelectKeys(summary, keyRecords, signer.KeyId);
        var head = proposalRecords[^1];
        var statement = new CheckpointStatement(
            EvidenceFormat.CheckpointType,
            EvidenceFormat.Id(proposalId),
            proposalRecords.Count,
            head.Sequence,
            head.RecordHash,
            globalHead.Sequence,
            globalHead.RecordHash,
            [.. keys.Select(k => new CheckpointKey(k.KeyId, k.Record.Sequence, k.Record.RecordHash))],
            EvidenceFormat.Timestamp(issuedAt));
        var envelope = Dsse.Sign(statement, EvidenceFormat.CheckpointPayloadType, signer.Key, signer.KeyId);

        return new EvidenceBundle(
            EvidenceFormat.BundleFormat,
            EvidenceFormat.Id(proposalId),
            summary.Proposal?.Value,
            summary.Impact?.Value,
            summary.Decision?.Value,
            [.. summary.Approvals.Select(a => a.Value)],
            summary.WorkPackages,
            summary.Results,
            proposalRecords,
            keys,
            new BundleCheckpoint(JsonNode.Parse(CanonicalJson.Serialize(statement))!, envelope),
            log,
            commitments);
    }

    /// <summary>The sequences of the key records a bundle of these records will carry: what its log section must prove besides the records.</summary>
    public static IReadOnlyList<long> KeySequences(IReadOnlyList<EvidenceRecord> proposalRecords, IEnumerable<EvidenceRecord> keyRecords, string evidenceKeyId) =>
        [.. SelectKeys(BundleSections.Derive(proposalRecords), keyRecords, evidenceKeyId).Select(k => k.Record.Sequence)];

    public static byte[] Serialize(EvidenceBundle bundle) => JsonSerializer.SerializeToUtf8Bytes(bundle, EvidenceFormat.Json);

    /// <summary>
    /// The keys every signature in the bundle names, plus evidence's own: for each key id the latest
    /// SigningKeyPublished record with that id, ordered by record sequence. A key id no record publishes is left
    /// out, and the verifier then says which signature it cannot check.
    /// </summary>
    private static List<BundleKey> SelectKeys(BundleSummary summary, IEnumerable<EvidenceRecord>? keyRecords, string evidenceKeyId)
    {
        var wanted = summary.WorkPackages.SelectMany(p => p.Envelope.Signatures)
            .Concat(summary.Results.SelectMany(r => r.SignedResult.Signatures))
            .Select(s => s.KeyId)
            .Append(evidenceKeyId)
            .ToHashSet(StringComparer.Ordinal);

        var latest = new Dictionary<string, EvidenceRecord>(StringComparer.Ordinal);
        foreach (var record in keyRecords ?? [])
        {
            if (record.Kind == nameof(SigningKeyPublished) && KeyText(record, "keyId") is { } id && wanted.Contains(id)
                && (!latest.TryGetValue(id, out var seen) || seen.Sequence < record.Sequence))
            {
                latest[id] = record;
            }
        }

        return [.. latest.Values.OrderBy(r => r.Sequence).Select(r => new BundleKey(
            KeyText(r, "keyId")!, KeyText(r, "owner") ?? string.Empty, KeyText(r, "ownerKind") ?? string.Empty, KeyText(r, "publicKey") ?? string.Empty, r))];
    }

    public static string? KeyText(EvidenceRecord record, string name) =>
        record.Payload is JsonObject payload && payload[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
