using System.Text.Json.Nodes;
using ControlPlane.Contracts.Evidence;
using ControlPlane.EvidenceScenarios;

namespace ControlPlane.Evidence.Tests.Chain;

/// <summary>The global chain check the service runs for GET /evidence/chain/verify.</summary>
public sealed class EvidenceChainVerifierTests : IDisposable
{
    private readonly EvidenceScenario _scenario = EvidenceScenario.Create(workSteps: 3);

    [Fact]
    public void An_intact_chain_verifies_to_its_head()
    {
        var verifier = new EvidenceChainVerifier();

        Assert.All(_scenario.Ledger.Records, r => Assert.Null(verifier.Add(r)));
        Assert.Equal(_scenario.Ledger.Records.Count, verifier.Count);
        Assert.Equal(_scenario.Ledger.Head.RecordHash, verifier.Head);
    }

    [Fact]
    public void A_missing_record_is_reported_at_its_sequence()
    {
        var records = _scenario.Ledger.Records.Where(r => r.Sequence != 6).ToList();

        Assert.Equal("record 7 (" + records[5].Kind + "): expected sequence 6", FirstFailure(records));
    }

    [Fact]
    public void An_edited_payload_is_reported()
    {
        var records = _scenario.Ledger.Records.ToList();
        var target = records[8];
        var edited = target.Payload.DeepClone().AsObject();
        edited["forged"] = true;
        records[8] = target with { Payload = edited };

        Assert.Equal($"record 9 ({target.Kind}): payload hash mismatch", FirstFailure(records));
    }

    [Fact]
    public void A_record_rehashed_after_an_edit_breaks_the_next_link()
    {
        var records = _scenario.Ledger.Records.ToList();
        var target = records[8];
        var forged = target with { Actor = "mallory@example.com" };
        records[8] = forged with { RecordHash = EvidenceHash.Record(forged) };

        Assert.Equal($"record 10 ({records[9].Kind}): prev_hash is not the hash of record 9", FirstFailure(records));
    }

    [Fact]
    public void A_proposal_link_that_skips_a_record_is_reported()
    {
        var records = _scenario.Ledger.Records.ToList();
        var proposal = records.Where(r => r.ProposalId == EvidenceFormat.Id(_scenario.ProposalId)).ToList();
        var target = proposal[3];
        var index = records.IndexOf(target);
        var relinked = target with { ProposalPrevHash = proposal[1].RecordHash };
        records[index] = relinked with { RecordHash = EvidenceHash.Record(relinked) };

        Assert.Contains($"record {target.Sequence} ({target.Kind}): proposal_prev_hash is not the hash of proposal {target.ProposalId}'s previous record",
            FirstFailure(records), StringComparison.Ordinal);
    }

    public void Dispose() => _scenario.Dispose();

    private static string? FirstFailure(IEnumerable<EvidenceRecord> records)
    {
        var verifier = new EvidenceChainVerifier();
        return records.Select(verifier.Add).FirstOrDefault(f => f is not null);
    }
}
