using System.Text.Json.Nodes;

namespace ControlPlane.Contracts.Evidence;

/// <summary>A summary section and the sequence of the record it was taken from.</summary>
public sealed record SectionSource(JsonNode Value, long Sequence, string Kind);

/// <summary>The summary sections of a bundle as derived from its records.</summary>
public sealed record BundleSummary(
    SectionSource? Proposal,
    SectionSource? Impact,
    SectionSource? Decision,
    IReadOnlyList<SectionSource> Approvals,
    IReadOnlyList<BundleWorkPackage> WorkPackages,
    IReadOnlyList<BundleWorkResult> Results);

/// <summary>A record whose payload lacks what its kind promises; the message names the record and the field.</summary>
public sealed class BundleSectionException(string message) : Exception(message);

/// <summary>
/// Derives a bundle's summary sections from its records, the same way for the builder and the verifier:
/// proposal = the first ProposalSubmitted payload; impact = the "impact" member of the last ImpactAssessed;
/// decision = the last PolicyDecided payload; approvals = every ApprovalRecorded payload in order;
/// workPackages = every WorkPackageIssued; results = every WorkCompleted that carries a signed result.
/// </summary>
public static class BundleSections
{
    public static BundleSummary Derive(IReadOnlyList<EvidenceRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        SectionSource? proposal = null, impact = null, decision = null;
        var approvals = new List<SectionSource>();
        var packages = new List<BundleWorkPackage>();
        var results = new List<BundleWorkResult>();
        foreach (var record in records)
        {
            switch (record.Kind)
            {
                case nameof(ProposalSubmitted):
                    proposal ??= new SectionSource(record.Payload.DeepClone(), record.Sequence, record.Kind);
                    break;
                case nameof(ImpactAssessed):
                    impact = new SectionSource(Member(record, "impact").DeepClone(), record.Sequence, record.Kind);
                    break;
                case nameof(PolicyDecided):
                    decision = new SectionSource(record.Payload.DeepClone(), record.Sequence, record.Kind);
                    break;
                case nameof(ApprovalRecorded):
                    approvals.Add(new SectionSource(record.Payload.DeepClone(), record.Sequence, record.Kind));
                    break;
                case nameof(WorkPackageIssued):
                    packages.Add(new BundleWorkPackage(record.Sequence, Text(record, "workId"), Text(record, "step"), Text(record, "fleet"),
                        Text(record, "runnerId"), Envelope(record, "envelope")));
                    break;
                case nameof(WorkCompleted) when Get(record, "signedResult") is not null:
                    results.Add(new BundleWorkResult(record.Sequence, Text(record, "workId"), Text(record, "step"), Text(record, "runnerId"),
                        Text(record, "outcome"), Envelope(record, "signedResult")));
                    break;
            }
        }

        return new BundleSummary(proposal, impact, decision, approvals, packages, results);
    }

    private static JsonNode? Get(EvidenceRecord record, string name) => record.Payload is JsonObject payload ? payload[name] : null;

    private static JsonNode Member(EvidenceRecord record, string name) =>
        Get(record, name) ?? throw new BundleSectionException($"record {record.Sequence} ({record.Kind}): payload has no '{name}'");

    private static string Text(EvidenceRecord record, string name) =>
        String(Member(record, name)) ??
            throw new BundleSectionException($"record {record.Sequence} ({record.Kind}): payload member '{name}' is not a string");

    /// <summary>Reads an envelope member by member (it is read for every package and result, so no JSON round trip).</summary>
    private static DsseEnvelope Envelope(EvidenceRecord record, string name)
    {
        var malformed = new BundleSectionException($"record {record.Sequence} ({record.Kind}): payload member '{name}' is not a DSSE envelope");
        if (Member(record, name) is not JsonObject envelope || envelope.Count != 3 || envelope["signatures"] is not JsonArray signatures || signatures.Count == 0)
        {
            throw malformed;
        }

        var list = new List<DsseSignature>(signatures.Count);
        foreach (var signature in signatures)
        {
            if (signature is not JsonObject { Count: 2 } fields || String(fields["keyId"]) is not { } keyId || String(fields["sig"]) is not { } sig)
            {
                throw malformed;
            }

            list.Add(new DsseSignature(keyId, sig));
        }

        // A committed payload (it held a secret parameter or command output) stands as its commitment: the envelope's
        // signature is then checked only against the disclosed payload.
        var payloadText = FieldCommitment.IsMarker(envelope["payload"], out var commitment) ? commitment : String(envelope["payload"]);
        return String(envelope["payloadType"]) is { } type && payloadText is { } payload
            ? new DsseEnvelope(type, payload, list)
            : throw malformed;
    }

    private static string? String(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
