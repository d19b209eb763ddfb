using System.Text;
using System.Text.Json.Nodes;
using ControlPlane.Cli.Commands;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.EvidenceScenarios;

namespace ControlPlane.Cli.Tests.Evidence;

/// <summary>`controlplane evidence verify` against bundles built here with real DSSE envelopes and keys generated per test.</summary>
public sealed class EvidenceVerifyCommandTests : IDisposable
{
    private readonly EvidenceScenario _scenario = EvidenceScenario.Create(workSteps: 2);
    private readonly string _directory = Directory.CreateTempSubdirectory("cp-evidence-cli-").FullName;

    [Fact]
    public async Task An_untouched_bundle_verifies_and_every_check_is_printed()
    {
        var (exit, output) = await VerifyAsync(_scenario.BundleJson());

        Assert.Equal(EvidenceVerifyCommand.Verified, exit);
        var checks = output.Split('\n').Where(l => l.StartsWith("ok ", StringComparison.Ordinal)).ToList();
        Assert.Equal(11, checks.Count);
        Assert.Contains("shape: controlplane.evidence-bundle/v1", checks[0], StringComparison.Ordinal);
        Assert.Contains("work packages: 2 envelopes verify", output, StringComparison.Ordinal);
        Assert.Contains("results: 2 signed results verify", output, StringComparison.Ordinal);
        Assert.Contains($"checkpoint: signed by evidence key '{EvidenceScenario.EvidenceKeyId}'", checks[^2], StringComparison.Ordinal);
        Assert.Contains("transparency log: this bundle carries no inclusion proofs (not checked)", checks[^1], StringComparison.Ordinal);
        Assert.Contains("Bundle verifies.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Require_log_fails_a_bundle_without_its_transparency_log_section()
    {
        var path = Path.Combine(_directory, "no-log.json");
        await File.WriteAllBytesAsync(path, _scenario.BundleJson());

        var (exit, output) = await CliRun.EvidenceAsync("verify", path, "--require-log");

        Assert.Equal(EvidenceVerifyCommand.Failed, exit);
        Assert.Contains("FAIL transparency log: the bundle carries no transparency-log section, and one is required", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pinned_evidence_key_must_match()
    {
        var json = _scenario.BundleJson();

        var (pinned, _) = await VerifyAsync(json, "--trust", _scenario.EvidenceKeyFingerprint);
        var (other, output) = await VerifyAsync(json, "--trust", "sha256:" + new string('1', 64));

        Assert.Equal(EvidenceVerifyCommand.Verified, pinned);
        Assert.Equal(EvidenceVerifyCommand.Failed, other);
        Assert.Contains($"FAIL checkpoint: checkpoint: signed by evidence key '{EvidenceScenario.EvidenceKeyId}' with fingerprint {_scenario.EvidenceKeyFingerprint}, not the trusted", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tampered_approval_payload_is_named_by_record()
    {
        var approval = Record(nameof(ApprovalRecorded));
        var json = Tamper(b => RecordNode(b, approval.Sequence)["payload"]!["comment"] = "approved without looking");

        var (exit, output) = await VerifyAsync(json);

        Assert.Equal(EvidenceVerifyCommand.Failed, exit);
        Assert.Contains($"FAIL payload hashes: record {approval.Sequence} (ApprovalRecorded): payload hash mismatch", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_changed_record_field_is_a_record_hash_mismatch()
    {
        var approval = Record(nameof(ApprovalRecorded));
        var json = Tamper(b => RecordNode(b, approval.Sequence)["actor"] = "mallory@example.com");

        var (_, output) = await VerifyAsync(json);

        Assert.Contains($"FAIL record hashes: record {approval.Sequence} (ApprovalRecorded): record hash mismatch", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_removed_record_breaks_the_proposal_chain()
    {
        var records = _scenario.ProposalRecords;
        var removed = records[4];
        var json = Tamper(b => b["records"]!.AsArray().RemoveAt(4));

        var (_, output) = await VerifyAsync(json);

        Assert.Contains($"FAIL proposal chain: record {records[5].Sequence} ({records[5].Kind}): proposal chain broken: proposal_prev_hash is not the hash of record {records[3].Sequence}", output, StringComparison.Ordinal);
        Assert.DoesNotContain($"record {removed.Sequence} ", output.Split("FAIL")[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_work_package_signature_that_does_not_verify_is_named()
    {
        var package = _scenario.Bundle().WorkPackages[0];
        var json = Tamper(b =>
        {
            var signature = b["workPackages"]![0]!["envelope"]!["signatures"]![0]!;
            signature["sig"] = FlipBase64(signature["sig"]!.GetValue<string>());
        });

        var (_, output) = await VerifyAsync(json);

        Assert.Contains($"FAIL work packages: work package {package.WorkId}: signature by '{EvidenceScenario.FleetKeyId}' does not verify", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_result_signed_with_a_key_the_bundle_does_not_carry_is_named()
    {
        using var stranger = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var result = _scenario.Bundle().Results[0];
        var payload = Convert.FromBase64String(result.SignedResult.Payload);
        var forged = Dsse.Sign(payload, WorkResult.PayloadType, stranger, "runner-forged-key");
        var json = Tamper(b => b["results"]![0]!["signedResult"] = System.Text.Json.JsonSerializer.SerializeToNode(forged, EvidenceFormat.Json));

        var (_, output) = await VerifyAsync(json);

        Assert.Contains($"FAIL results: result {result.WorkId}: signed by 'runner-forged-key', a key the bundle does not carry", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tampered_summary_is_caught_even_when_the_records_are_intact()
    {
        var decided = Record(nameof(PolicyDecided));
        var json = Tamper(b => b["decision"]!["decision"]!["outcome"] = "allow");

        var (_, output) = await VerifyAsync(json);

        Assert.Contains($"FAIL summary: section 'decision' differs from record {decided.Sequence} (PolicyDecided)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_checkpoint_that_does_not_match_the_records_is_refused()
    {
        var json = Tamper(b => b["checkpoint"]!["statement"]!["recordCount"] = 3);

        var (_, output) = await VerifyAsync(json);

        Assert.Contains("FAIL checkpoint: checkpoint: the statement in clear differs from the signed statement", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Records_cut_off_at_the_end_do_not_match_the_signed_checkpoint()
    {
        // The last record is the move to completed: dropping it leaves every other check satisfied.
        var count = _scenario.ProposalRecords.Count;
        var json = Tamper(b => b["records"]!.AsArray().RemoveAt(count - 1));

        var (_, output) = await VerifyAsync(json);

        Assert.Contains($"FAIL checkpoint: checkpoint: signed for {count} records, the bundle holds {count - 1}", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_format_version_is_refused()
    {
        var json = Tamper(b => b["format"] = "controlplane.evidence-bundle/v2");

        var (_, output) = await VerifyAsync(json);

        Assert.Contains("FAIL shape: format is 'controlplane.evidence-bundle/v2', expected 'controlplane.evidence-bundle/v1'", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_file_exits_2_with_the_reason()
    {
        var (exit, output) = await CliRun.EvidenceAsync("verify", Path.Combine(_directory, "nope.json"));

        Assert.Equal(EvidenceVerifyCommand.Unreadable, exit);
        Assert.Contains("cannot read", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_bundle_command_without_a_token_exits_2()
    {
        var previous = Environment.GetEnvironmentVariable(EvidenceBundleCommand.TokenVariable);
        Environment.SetEnvironmentVariable(EvidenceBundleCommand.TokenVariable, null);
        try
        {
            var (exit, output) = await CliRun.EvidenceAsync("bundle", Guid.NewGuid().ToString());

            Assert.Equal(2, exit);
            Assert.Contains("No token", output, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(EvidenceBundleCommand.TokenVariable, previous);
        }
    }

    public void Dispose()
    {
        _scenario.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<(int ExitCode, string Output)> VerifyAsync(byte[] json, params string[] options)
    {
        var path = Path.Combine(_directory, $"{Guid.NewGuid():N}.json");
        await File.WriteAllBytesAsync(path, json);
        return await CliRun.EvidenceAsync(["verify", path, .. options]);
    }

    private EvidenceRecord Record(string kind) => _scenario.ProposalRecords.First(r => r.Kind == kind);

    private byte[] Tamper(Action<JsonObject> change)
    {
        var bundle = JsonNode.Parse(_scenario.BundleJson())!.AsObject();
        change(bundle);
        return Encoding.UTF8.GetBytes(bundle.ToJsonString());
    }

    private static JsonObject RecordNode(JsonObject bundle, long sequence) =>
        bundle["records"]!.AsArray().Single(r => r!["sequence"]!.GetValue<long>() == sequence)!.AsObject();

    private static string FlipBase64(string text)
    {
        var bytes = Convert.FromBase64String(text);
        bytes[bytes.Length / 2] ^= 0x01;
        return Convert.ToBase64String(bytes);
    }
}
