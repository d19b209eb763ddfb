using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ControlPlane.Cli.Commands;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification.Redaction;
using ControlPlane.EvidenceScenarios;

namespace ControlPlane.Cli.Tests.Evidence;

/// <summary>`controlplane evidence verify` on bundles whose sensitive fields are committed: what it says for a reader's and an auditor's bundle.</summary>
public sealed class EvidenceVerifyRedactionTests : IDisposable
{
    private readonly EvidenceScenario _scenario = EvidenceScenario.Create(workSteps: 2, interleave: false);
    private readonly string _directory = Directory.CreateTempSubdirectory("cp-evidence-redaction-").FullName;

    [Fact]
    public async Task A_reader_bundle_reports_its_redacted_fields_with_commitments_intact()
    {
        var (exit, output) = await VerifyAsync(disclose: false);

        Assert.Equal(EvidenceVerifyCommand.Verified, exit);
        Assert.Contains("ok   redaction: 3 fields redacted (commitments intact)", output, StringComparison.Ordinal);
        Assert.Contains("2 with a redacted payload, signature checked only on disclosure", output, StringComparison.Ordinal);
        Assert.Contains("Bundle verifies.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_auditor_bundle_reports_its_sensitive_fields_disclosed_and_checked()
    {
        var (exit, output) = await VerifyAsync(disclose: true);

        Assert.Equal(EvidenceVerifyCommand.Verified, exit);
        Assert.Contains("ok   redaction: 3 sensitive fields disclosed and checked", output, StringComparison.Ordinal);
        Assert.Contains("results: 2 signed results verify against their runners' keys", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disclosed_value_that_does_not_match_fails_with_the_record_and_field()
    {
        var (exit, output) = await VerifyAsync(disclose: true, c => c.Path == "/comment" ? c with { Value = JsonValue.Create("nothing to see") } : c);

        Assert.Equal(EvidenceVerifyCommand.Failed, exit);
        Assert.Matches(@"FAIL redaction: record \d+ \(ApprovalRecorded\) field /comment: the disclosed value and salt do not match its commitment", output);
    }

    public void Dispose()
    {
        _scenario.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<(int, string)> VerifyAsync(bool disclose, Func<BundleCommitment, BundleCommitment>? change = null)
    {
        var path = Path.Combine(_directory, $"bundle-{disclose}.json");
        var bundle = Redacted(disclose);
        await File.WriteAllBytesAsync(path, EvidenceBundleBuilder.Serialize(bundle with { Commitments = [.. bundle.Commitments!.Select(change ?? (c => c))] }));
        return await CliRun.EvidenceAsync("verify", path, "--trust", _scenario.EvidenceKeyFingerprint);
    }

    /// <summary>The scenario's records sealed again as evidence seals them now, sensitive fields committed.</summary>
    private EvidenceBundle Redacted(bool disclose)
    {
        var records = new List<EvidenceRecord>();
        var commitments = new List<BundleCommitment>();
        var proposalHead = EvidenceFormat.Genesis;
        foreach (var original in _scenario.Ledger.Records)
        {
            var (payload, fields) = SensitiveFields.Commit(original.Kind, CanonicalJson.Serialize(original.Payload), () => RandomNumberGenerator.GetBytes(FieldCommitment.SaltBytes));
            var draft = new EvidenceDraft(original.Kind, original.ProposalId is { } p ? Guid.Parse(p) : null, original.Actor,
                DateTimeOffset.Parse(original.OccurredAt, CultureInfo.InvariantCulture), payload);
            var prev = records.Count == 0 ? EvidenceFormat.Genesis : records[^1].RecordHash;
            var record = EvidenceChain.Seal(draft, new ChainPosition(records.Count + 1, prev, draft.ProposalId is null ? null : proposalHead), Guid.CreateVersion7(),
                DateTimeOffset.Parse(original.RecordedAt, CultureInfo.InvariantCulture));
            proposalHead = draft.ProposalId is null ? proposalHead : record.RecordHash;
            records.Add(record);
            commitments.AddRange(fields.Select(f => disclose
                ? new BundleCommitment(record.Sequence, f.Path, f.Commitment, JsonNode.Parse(f.CanonicalValue), Convert.ToBase64String(f.Salt))
                : new BundleCommitment(record.Sequence, f.Path, f.Commitment, null, null)));
        }

        return EvidenceBundleBuilder.Build(_scenario.ProposalId, [.. records.Where(r => r.ProposalId is not null)], records.Where(r => r.Kind == nameof(SigningKeyPublished)),
            new ChainHead(records[^1].Sequence, records[^1].RecordHash), new EvidenceSigner(_scenario.EvidenceKey, EvidenceScenario.EvidenceKeyId),
            DateTimeOffset.Parse(records[^1].RecordedAt, CultureInfo.InvariantCulture).AddSeconds(1), commitments: commitments);
    }
}
