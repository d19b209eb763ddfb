using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using ControlPlane.Cli.Tests.Evidence;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification;
using ControlPlane.Evidence.Apis;
using ControlPlane.Evidence.Transparency;
using ControlPlane.Evidence.Verification.Transparency;
using ControlPlane.EvidenceScenarios;
using ControlPlane.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ControlPlane.Evidence.Tests.Service;

/// <summary>
/// The evidence log as an RFC 9162 tree over the real service and PostgreSQL: signed C2SP checkpoints, inclusion
/// proofs of real records, consistency proofs between checkpoints, bundles that prove their records in the log,
/// all checked with the offline verifier and the CLI.
/// </summary>
public sealed class TransparencyLogTests(TransparencyLogTests.Fixture fixture) : IClassFixture<TransparencyLogTests.Fixture>
{
    internal const string Origin = "test.controlplane/evidence";

    /// <summary>Checkpoints named for these tests, and signed only when a test asks.</summary>
    public sealed class Fixture : EvidenceFixture
    {
        protected override void Configure(PlaneSettings settings) =>
            settings.Set("Evidence:LogOrigin", Origin).Set("Evidence:Checkpoints:Interval", "00:10:00");
    }

    [Fact]
    public async Task Checkpoints_are_signed_notes_and_every_record_is_provably_in_them()
    {
        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        var first = await PublishAsync(fixture, auditor);

        using var scenario = EvidenceScenario.Create(workSteps: 1, interleave: false);
        foreach (var e in scenario.Events)
        {
            await fixture.Publisher.PublishAsync(e.Message);
        }

        var records = await fixture.WaitForRecordsAsync(scenario.ProposalId, scenario.Events.Count(e => e.ProposalId is not null));
        var second = await PublishAsync(fixture, auditor);
        Assert.True(second.Size >= records[^1].Sequence, $"checkpoint at {second.Size} covers record {records[^1].Sequence}");

        foreach (var record in records)
        {
            var proof = await auditor.GetFromJsonAsync<InclusionProofResponse>($"evidence/proofs/inclusion?sequence={record.Sequence}&size={second.Size}");
            Assert.Equal(record.Sequence - 1, proof!.LeafIndex);
            Assert.Equal(EvidenceTree.LeafHash(record.RecordHash), Convert.FromBase64String(proof.LeafHash));
            Assert.True(MerkleProofs.VerifyInclusion(proof.LeafIndex, second.Size, EvidenceTree.LeafHash(record.RecordHash),
                [.. proof.Proof.Select(Convert.FromBase64String)], second.RootHash), $"record {record.Sequence}");
        }

        var consistency = await auditor.GetFromJsonAsync<ConsistencyProofResponse>($"evidence/proofs/consistency?from={first.Size}&to={second.Size}");
        Assert.True(MerkleProofs.VerifyConsistency(first.Size, second.Size, first.RootHash, second.RootHash,
            [.. consistency!.Proof.Select(Convert.FromBase64String)]));

        // An earlier checkpoint stays readable by its size.
        var again = await auditor.GetStringAsync($"evidence/checkpoint?size={first.Size}");
        Assert.Equal(first.Note, again);
    }

    [Theory]
    [InlineData("evidence/proofs/inclusion?sequence=0&size=1", HttpStatusCode.BadRequest)]
    [InlineData("evidence/proofs/inclusion?sequence=1", HttpStatusCode.BadRequest)]
    [InlineData("evidence/proofs/inclusion?sequence=1&size=99999999", HttpStatusCode.BadRequest)]
    [InlineData("evidence/proofs/consistency?from=5&to=2", HttpStatusCode.BadRequest)]
    [InlineData("evidence/proofs/consistency?from=x&to=2", HttpStatusCode.BadRequest)]
    [InlineData("evidence/checkpoint?size=99999999", HttpStatusCode.NotFound)]
    public async Task Questions_outside_the_log_get_a_problem_not_a_failure(string path, HttpStatusCode expected)
    {
        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        using var response = await auditor.GetAsync(path);
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Proofs_need_evidence_read_and_signing_on_demand_needs_export()
    {
        using var anonymous = await fixture.ClientAsync(null);
        using (var response = await anonymous.GetAsync("evidence/checkpoint"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using var nobody = await fixture.ClientAsync(EvidenceFixture.Nobody);
        using (var response = await nobody.GetAsync("evidence/proofs/consistency?from=0&to=1"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        using var viewer = await fixture.ClientAsync(EvidenceFixture.Viewer);
        using (var response = await viewer.PostAsync("evidence/checkpoints", null))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
    }

    [Fact]
    public async Task A_served_bundle_proves_its_records_in_the_log_and_a_tampered_log_section_fails()
    {
        using var scenario = EvidenceScenario.Create(workSteps: 1, interleave: false);
        foreach (var e in scenario.Events)
        {
            await fixture.Publisher.PublishAsync(e.Message);
        }

        await fixture.WaitForRecordsAsync(scenario.ProposalId, scenario.Events.Count(e => e.ProposalId is not null));
        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        var json = await auditor.GetByteArrayAsync($"evidence/proposals/{scenario.ProposalId}/bundle");
        var strict = new BundleVerifyOptions(RequireLogProof: true);
        var verification = EvidenceBundleVerifier.Verify(json, strict);
        Assert.True(verification.Ok, $"{verification.FailedCheck}: {verification.Failure}");
        var bundle = JsonSerializer.Deserialize<EvidenceBundle>(json, EvidenceFormat.Json)!;
        Assert.Equal(bundle.Records.Count + bundle.Keys.Count, bundle.Log!.Inclusions.Count);

        string? Fails(EvidenceBundle tampered)
        {
            var result = EvidenceBundleVerifier.Verify(EvidenceBundleBuilder.Serialize(tampered), strict);
            Assert.False(result.Ok, "a tampered log section verified");
            Assert.Equal(EvidenceBundleVerifier.LogCheck, result.FailedCheck);
            return result.Failure;
        }

        var log = bundle.Log;
        var flipped = log.Inclusions.Select((inclusion, i) => i == 0 && inclusion.Proof.Count > 0
            ? inclusion with { Proof = [Convert.ToBase64String(SHA256.HashData(Convert.FromBase64String(inclusion.Proof[0]))), .. inclusion.Proof.Skip(1)] }
            : inclusion).ToList();
        Assert.Contains("not proven", Fails(bundle with { Log = log with { Inclusions = flipped } }), StringComparison.Ordinal);
        Assert.Contains("has no inclusion proof", Fails(bundle with { Log = log with { Inclusions = [.. log.Inclusions.Skip(1)] } }), StringComparison.Ordinal);
        Assert.Contains("does not hold", Fails(bundle with { Log = log with { Inclusions = [.. log.Inclusions, log.Inclusions[0] with { Sequence = 999_999 }] } }), StringComparison.Ordinal);
        var lines = log.Checkpoint.Split('\n');
        lines[1] = (long.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("not signed", Fails(bundle with { Log = log with { Checkpoint = string.Join('\n', lines) } }), StringComparison.Ordinal);

        var withoutLog = EvidenceBundleVerifier.Verify(EvidenceBundleBuilder.Serialize(bundle with { Log = null }), strict);
        Assert.Equal(EvidenceBundleVerifier.LogCheck, withoutLog.FailedCheck);
        Assert.True(EvidenceBundleVerifier.Verify(EvidenceBundleBuilder.Serialize(bundle with { Log = null })).Ok, "without --require-log an older bundle still verifies");
    }

    [Fact]
    public async Task The_cli_checks_offline_that_a_newer_checkpoint_extends_an_older_one_and_catches_a_fork()
    {
        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        var older = await PublishAsync(fixture, auditor);
        using (var scenario = EvidenceScenario.Create(workSteps: 1, interleave: false))
        {
            foreach (var e in scenario.Events)
            {
                await fixture.Publisher.PublishAsync(e.Message);
            }

            await fixture.WaitForRecordsAsync(scenario.ProposalId, scenario.Events.Count(e => e.ProposalId is not null));
        }

        var newer = await PublishAsync(fixture, auditor);
        using var anonymous = await fixture.ClientAsync(null);
        var directory = Directory.CreateTempSubdirectory("cp-consistency-").FullName;
        try
        {
            string Write(string name, string text)
            {
                var path = Path.Combine(directory, name);
                File.WriteAllText(path, text);
                return path;
            }

            var oldPath = Write("old.checkpoint", older.Note);
            var newPath = Write("new.checkpoint", newer.Note);
            var proofPath = Write("proof.json", await auditor.GetStringAsync($"evidence/proofs/consistency?from={older.Size}&to={newer.Size}"));
            var keysPath = Write("keys.json", await anonymous.GetStringAsync("evidence/keys"));

            var (exit, output) = await CliRun.EvidenceAsync("consistency", oldPath, newPath, "--proof", proofPath, "--keys", keysPath);
            Assert.True(exit == 0, output);
            Assert.Contains($"at size {newer.Size} extends its checkpoint at size {older.Size}", output, StringComparison.Ordinal);

            // A fork: the same size signed over another root (what a rewritten log would have to publish) fails.
            using var evidenceKey = await EvidenceSignerAsync();
            var forged = SignedNote.SignEcdsa(new Checkpoint(Origin, older.Size, SHA256.HashData("another history"u8)).Text(), Origin, evidenceKey).ToString();
            var (forkExit, forkOutput) = await CliRun.EvidenceAsync("consistency", Write("forged.checkpoint", forged), newPath, "--proof", proofPath, "--keys", keysPath);
            Assert.Equal(1, forkExit);
            Assert.Contains("does NOT extend", forkOutput, StringComparison.Ordinal);

            var (unsignedExit, unsignedOutput) = await CliRun.EvidenceAsync("consistency", oldPath, newPath, "--proof", proofPath, "--keys", keysPath, "--trust", "sha256:" + new string('0', 64));
            Assert.Equal(1, unsignedExit);
            Assert.Contains("no key with fingerprint", unsignedOutput, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Evidence's private key, read as the service reads it: only to forge a fork a witness or reader must catch.</summary>
    private async Task<ECDsa> EvidenceSignerAsync()
    {
        var keys = fixture.Evidence.Services.GetRequiredService<ControlPlane.Evidence.Signing.EvidenceKeyStore>();
        var (_, signer) = await keys.GetSignerAsync(CancellationToken.None);
        return signer.Key;
    }

    internal static async Task<(long Size, byte[] RootHash, string Note)> PublishAsync(EvidenceFixture fixture, HttpClient auditor)
    {
        using var response = await auditor.PostAsync("evidence/checkpoints", null);
        var note = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, note);
        Assert.True(SignedNote.TryParse(note, out var signed, out var failure), failure);
        using var key = await EvidenceKeyAsync(fixture);
        Assert.True(signed!.VerifyEcdsa(Origin, key, out failure), failure);
        Assert.True(Checkpoint.TryParse(signed.Text, out var checkpoint, out failure), failure);
        Assert.Equal(Origin, checkpoint!.Origin);
        return (checkpoint.Size, checkpoint.RootHash, note);
    }

    private static async Task<ECDsa> EvidenceKeyAsync(EvidenceFixture fixture)
    {
        using var anonymous = await fixture.ClientAsync(null);
        var keys = await anonymous.GetFromJsonAsync<EvidenceKeySet>("evidence/keys", EvidenceFormat.Json);
        var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(Assert.Single(keys!.Keys).PublicKey), out _);
        return key;
    }
}
