using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ControlPlane.Contracts.Evidence;

/// <summary>
/// One entry of the evidence log, as the API and bundles carry it. Identifiers and timestamps are the exact
/// strings that were hashed (<see cref="EvidenceFormat"/>); Payload is the event as canonical JSON.
/// PrevHash links the global chain; ProposalPrevHash links the records of one proposal (null for records that
/// belong to no proposal).
/// </summary>
public sealed record EvidenceRecord(
    long Sequence,
    string RecordId,
    string Kind,
    string? ProposalId,
    string? Actor,
    string OccurredAt,
    string RecordedAt,
    JsonNode Payload,
    string PayloadHash,
    string PrevHash,
    string? ProposalPrevHash,
    string RecordHash);

/// <summary>What is known about an event before it gets a place in the chain.</summary>
public sealed record EvidenceDraft(string Kind, Guid? ProposalId, string? Actor, DateTimeOffset OccurredAt, byte[] CanonicalPayload)
{
    public static EvidenceDraft From<T>(T message, Guid? proposalId, string? actor, DateTimeOffset occurredAt) =>
        new(typeof(T).Name, proposalId, actor, occurredAt, CanonicalJson.Serialize(message));
}

/// <summary>Where the next record goes: its sequence, the global head hash, and the head hash of its proposal (null when it has none).</summary>
public readonly record struct ChainPosition(long Sequence, string PrevHash, string? ProposalPrevHash);

/// <summary>
/// The hashes of the evidence chain.
/// <para>payload_hash = "sha256:" + hex(SHA-256(canonical JSON of the event)) (<see cref="CanonicalJson"/>).</para>
/// <para>
/// record_hash = "sha256:" + hex(SHA-256(M)) where M is the concatenation of
/// F("controlplane.evidence-record/v1"), F(sequence), F(recordId), F(kind), F(proposalId), F(actor),
/// F(occurredAt), F(recordedAt), F(payloadHash), F(prevHash), F(proposalPrevHash);
/// F(s) = ASCII decimal byte length of UTF-8(s), ":", UTF-8(s), "," (a netstring) and F(null) = "~".
/// sequence is ASCII decimal without leading zeros; ids and timestamps are spelled as <see cref="EvidenceFormat"/> says.
/// </para>
/// <para>The length prefixes make the encoding unambiguous: no two field lists produce the same bytes.</para>
/// </summary>
public static class EvidenceHash
{
    public static string Payload(ReadOnlySpan<byte> canonicalPayload) => CanonicalJson.HashBytes(canonicalPayload);

    public static string Record(EvidenceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Record(record.Sequence, record.RecordId, record.Kind, record.ProposalId, record.Actor, record.OccurredAt,
            record.RecordedAt, record.PayloadHash, record.PrevHash, record.ProposalPrevHash);
    }

    public static string Record(long sequence, string recordId, string kind, string? proposalId, string? actor, string occurredAt,
        string recordedAt, string payloadHash, string prevHash, string? proposalPrevHash) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(RecordEncoding(sequence, recordId, kind, proposalId, actor, occurredAt,
            recordedAt, payloadHash, prevHash, proposalPrevHash)));

    /// <summary>The exact bytes record_hash is computed over (see the class summary).</summary>
    public static byte[] RecordEncoding(long sequence, string recordId, string kind, string? proposalId, string? actor, string occurredAt,
        string recordedAt, string payloadHash, string prevHash, string? proposalPrevHash)
    {
        var builder = new StringBuilder(512);
        foreach (var field in (string?[])[EvidenceFormat.RecordDomain, sequence.ToString(CultureInfo.InvariantCulture), recordId, kind,
                     proposalId, actor, occurredAt, recordedAt, payloadHash, prevHash, proposalPrevHash])
        {
            if (field is null)
            {
                builder.Append('~');
                continue;
            }

            builder.Append(Encoding.UTF8.GetByteCount(field).ToString(CultureInfo.InvariantCulture)).Append(':').Append(field).Append(',');
        }

        return Encoding.UTF8.GetBytes(builder.ToString());
    }
}

/// <summary>Seals drafts into records: the one place the chain's hashing rules are applied when appending.</summary>
public static class EvidenceChain
{
    public static EvidenceRecord Seal(EvidenceDraft draft, ChainPosition position, Guid recordId, DateTimeOffset recordedAt)
    {
        ArgumentNullException.ThrowIfNull(draft);
        if (draft.ProposalId is not null != position.ProposalPrevHash is not null)
        {
            throw new ArgumentException("A record has a proposal chain link exactly when it belongs to a proposal.", nameof(position));
        }

        var payloadHash = EvidenceHash.Payload(draft.CanonicalPayload);
        var proposalId = draft.ProposalId is { } p ? EvidenceFormat.Id(p) : null;
        var id = EvidenceFormat.Id(recordId);
        var occurredAt = EvidenceFormat.Timestamp(draft.OccurredAt);
        var recorded = EvidenceFormat.Timestamp(recordedAt);
        var recordHash = EvidenceHash.Record(position.Sequence, id, draft.Kind, proposalId, draft.Actor, occurredAt, recorded,
            payloadHash, position.PrevHash, position.ProposalPrevHash);
        return new EvidenceRecord(position.Sequence, id, draft.Kind, proposalId, draft.Actor, occurredAt, recorded,
            JsonNode.Parse(draft.CanonicalPayload)!, payloadHash, position.PrevHash, position.ProposalPrevHash, recordHash);
    }

    /// <summary>Recomputes a record's payload hash and record hash; null when both match, else what is wrong.</summary>
    public static string? CheckHashes(EvidenceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return CheckPayloadHash(record) ?? CheckRecordHash(record);
    }

    public static string? CheckPayloadHash(EvidenceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return string.Equals(EvidenceHash.Payload(CanonicalJson.Serialize(record.Payload)), record.PayloadHash, StringComparison.Ordinal)
            ? null
            : $"record {record.Sequence} ({record.Kind}): payload hash mismatch";
    }

    public static string? CheckRecordHash(EvidenceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return string.Equals(EvidenceHash.Record(record), record.RecordHash, StringComparison.Ordinal)
            ? null
            : $"record {record.Sequence} ({record.Kind}): record hash mismatch";
    }
}

/// <summary>
/// Checks the whole global chain incrementally, in sequence order, in constant memory per proposal: sequences
/// without gaps from 1, each prev_hash the previous record's hash, both hashes recomputed, and each proposal's
/// records linked to that proposal's previous record.
/// </summary>
public sealed class EvidenceChainVerifier
{
    private readonly Dictionary<string, string> _proposalHeads = new(StringComparer.Ordinal);
    private string _head = EvidenceFormat.Genesis;

    public long Count { get; private set; }

    public string Head => _head;

    /// <summary>Adds the next record; returns null when it continues the chain, else the reason it breaks it.</summary>
    public string? Add(EvidenceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Sequence != Count + 1)
        {
            return $"record {record.Sequence} ({record.Kind}): expected sequence {Count + 1}";
        }

        if (!string.Equals(record.PrevHash, _head, StringComparison.Ordinal))
        {
            return $"record {record.Sequence} ({record.Kind}): prev_hash is not the hash of record {Count}";
        }

        if (EvidenceChain.CheckHashes(record) is { } broken)
        {
            return broken;
        }

        if (record.ProposalId is null)
        {
            if (record.ProposalPrevHash is not null)
            {
                return $"record {record.Sequence} ({record.Kind}): proposal_prev_hash set on a record without a proposal";
            }
        }
        else
        {
            var expected = _proposalHeads.GetValueOrDefault(record.ProposalId, EvidenceFormat.Genesis);
            if (!string.Equals(record.ProposalPrevHash, expected, StringComparison.Ordinal))
            {
                return $"record {record.Sequence} ({record.Kind}): proposal_prev_hash is not the hash of proposal {record.ProposalId}'s previous record";
            }

            _proposalHeads[record.ProposalId] = record.RecordHash;
        }

        _head = record.RecordHash;
        Count++;
        return null;
    }
}
