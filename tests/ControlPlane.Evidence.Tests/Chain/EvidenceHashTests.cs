using System.Security.Cryptography;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;

namespace ControlPlane.Evidence.Tests.Chain;

/// <summary>The hash encodings, checked against an independent spelling-out of the documented rules.</summary>
public sealed class EvidenceHashTests
{
    [Fact]
    public void Record_hash_is_sha256_over_length_prefixed_fields_with_tilde_for_null()
    {
        var payloadHash = "sha256:" + new string('1', 64);
        var prevHash = "sha256:" + new string('2', 64);

        // Written out by hand from the documentation of EvidenceHash: F(s) = len ":" s ",", F(null) = "~".
        var expected = "31:controlplane.evidence-record/v1," + "2:42," + "36:0199c4a2-1111-7000-8000-000000000001," + "12:GraphChanged," +
                       "~" + "23:graph-admin@example.com," + "27:2026-11-21T09:30:00.123456Z," + "27:2026-11-21T09:30:00.200000Z," +
                       "71:" + payloadHash + "," + "71:" + prevHash + "," + "~";
        var expectedHash = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

        var actual = EvidenceHash.Record(42, "0199c4a2-1111-7000-8000-000000000001", "GraphChanged", null, "graph-admin@example.com",
            "2026-11-21T09:30:00.123456Z", "2026-11-21T09:30:00.200000Z", payloadHash, prevHash, null);

        Assert.Equal(expectedHash, actual);
    }

    [Fact]
    public void Lengths_are_utf8_byte_counts_so_fields_cannot_run_into_each_other()
    {
        var encoding = EvidenceHash.RecordEncoding(1, "id", "Kind", null, "zoë", "t1", "t2", "p", "h", null);

        Assert.Contains("4:zoë,", Encoding.UTF8.GetString(encoding), StringComparison.Ordinal);
        // Moving a character from one field to the next changes the bytes.
        Assert.NotEqual(
            EvidenceHash.Record(1, "id", "ab", null, "c", "t", "t", "p", "h", null),
            EvidenceHash.Record(1, "id", "a", null, "bc", "t", "t", "p", "h", null));
        // An empty actor is not a missing actor.
        Assert.NotEqual(
            EvidenceHash.Record(1, "id", "k", null, string.Empty, "t", "t", "p", "h", null),
            EvidenceHash.Record(1, "id", "k", null, null, "t", "t", "p", "h", null));
    }

    [Fact]
    public void Payload_hash_is_the_canonical_json_hash_of_the_event()
    {
        var graphChanged = new GraphChanged(3, "node-upserted", "billing", "graph-admin@example.com", DateTimeOffset.UnixEpoch);
        var draft = EvidenceDraft.From(graphChanged, null, graphChanged.ChangedBy, graphChanged.At);

        var record = EvidenceChain.Seal(draft, new ChainPosition(1, EvidenceFormat.Genesis, null), Guid.NewGuid(), DateTimeOffset.UnixEpoch);

        Assert.Equal(CanonicalJson.Hash(graphChanged), record.PayloadHash);
        Assert.Equal(CanonicalJson.Serialize(graphChanged), CanonicalJson.Serialize(record.Payload));
        Assert.Equal(EvidenceHash.Record(record), record.RecordHash);
    }

    [Theory]
    [InlineData("2026-11-21T09:30:00.123456Z", true)]
    [InlineData("2026-11-21T09:30:00.123456+00:00", false)]
    [InlineData("2026-11-21T09:30:00.12345Z", false)]
    [InlineData("2026-11-21T09:30:00.1234567Z", false)]
    [InlineData("2026-11-21 09:30:00.123456Z", false)]
    [InlineData("2026-02-30T09:30:00.123456Z", false)]
    public void Timestamps_have_exactly_one_spelling(string text, bool valid) => Assert.Equal(valid, EvidenceFormat.IsTimestamp(text));

    [Fact]
    public void Timestamps_keep_microseconds_so_they_survive_postgresql()
    {
        var value = new DateTimeOffset(2026, 11, 21, 10, 30, 0, TimeSpan.FromHours(1)).AddTicks(1_234_567);

        Assert.Equal("2026-11-21T09:30:00.123456Z", EvidenceFormat.Timestamp(value));
        Assert.Equal(EvidenceFormat.Timestamp(value), EvidenceFormat.Timestamp(EvidenceFormat.Truncate(value)));
    }

    [Theory]
    [InlineData("0199c4a2-1111-7000-8000-00000000000a", true)]
    [InlineData("0199C4A2-1111-7000-8000-00000000000A", false)]
    [InlineData("{0199c4a2-1111-7000-8000-00000000000a}", false)]
    [InlineData("0199c4a211117000800000000000000a", false)]
    public void Ids_are_lowercase_uuids(string text, bool valid) => Assert.Equal(valid, EvidenceFormat.IsId(text));

    [Fact]
    public void Base64_must_be_canonical()
    {
        var text = Convert.ToBase64String([1, 2, 3, 4]); // "AQIDBA==": the last character carries padding bits

        Assert.True(EvidenceFormat.TryDecodeStrictBase64(text, out _));
        Assert.False(EvidenceFormat.TryDecodeStrictBase64(text.Replace("BA==", "BB==", StringComparison.Ordinal), out _));
        Assert.False(EvidenceFormat.TryDecodeStrictBase64("AQID BA==", out _));
    }

    [Fact]
    public void Sealing_refuses_a_proposal_record_without_a_proposal_link()
    {
        var draft = new EvidenceDraft("ProposalStateChanged", Guid.NewGuid(), "orchestrator", DateTimeOffset.UnixEpoch, "{}"u8.ToArray());

        Assert.Throws<ArgumentException>(() => EvidenceChain.Seal(draft, new ChainPosition(1, EvidenceFormat.Genesis, null), Guid.NewGuid(), DateTimeOffset.UnixEpoch));
    }
}
