using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using ControlPlane.Cli.Tests.Evidence;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Apis;
using ControlPlane.Evidence.Verification.InToto;
using ControlPlane.EvidenceScenarios;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.Evidence.Tests.Service;

/// <summary>GET /evidence/proposals/{id}/in-toto on the real service, and the CLI's export and verification of it.</summary>
public sealed class InTotoExportTests(EvidenceFixture fixture) : IClassFixture<EvidenceFixture>
{
    [Fact]
    public async Task A_proposals_decision_approval_and_results_export_as_statements_that_verify_with_the_published_key()
    {
        using var scenario = await RecordedScenarioAsync();
        using var viewer = await fixture.ClientAsync(EvidenceFixture.Viewer);
        var records = (await viewer.GetFromJsonAsync<ProposalEvidence>($"evidence/proposals/{scenario.ProposalId}", EvidenceFormat.Json))!.Records;
        var keys = await KeysAsync();

        using var response = await viewer.GetAsync($"evidence/proposals/{scenario.ProposalId}/in-toto");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(InTotoFormat.BundleMediaType, response.Content.Headers.ContentType?.MediaType);
        var bundle = await response.Content.ReadAsStringAsync();

        var result = InTotoVerifier.Verify(bundle, keys.Keys, new InTotoVerifyOptions(Assert.Single(keys.Keys).Fingerprint, "sha256:" + new string('a', 64)));
        Assert.True(result.Ok, result.Failure);
        var attestable = records.Where(r => r.Kind is nameof(PolicyDecided) or nameof(ApprovalRecorded) or nameof(WorkCompleted)).ToList();
        Assert.Equal(attestable.Select(r => (r.Sequence, r.Kind, r.RecordHash)), result.Statements.Select(s => (s.Evidence.Sequence, s.Evidence.Kind, s.Evidence.RecordHash)));
        Assert.Equal(4, result.Statements.Count);
        Assert.All(bundle.TrimEnd('\n').Split('\n'), line => Assert.Equal(keys.Keys[0].KeyId, JsonNode.Parse(line)!["signatures"]![0]!["keyid"]!.GetValue<string>()));

        // Each statement names its leaf as the log serves it: a verifier ties it to an inclusion proof.
        var approval = result.Statements.Single(s => s.Evidence.Kind == nameof(ApprovalRecorded)).Evidence;
        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        using var signed = await auditor.PostAsync("evidence/checkpoints", null);
        var checkpoint = await signed.Content.ReadAsStringAsync();
        var size = long.Parse(checkpoint.Split('\n')[1], System.Globalization.CultureInfo.InvariantCulture);
        var inclusion = await viewer.GetFromJsonAsync<InclusionProofResponse>($"evidence/proofs/inclusion?sequence={approval.Sequence}&size={size}");
        Assert.Equal((approval.LeafIndex, approval.LeafHash), (inclusion!.LeafIndex, inclusion.LeafHash));
        Assert.Equal(checkpoint.Split('\n')[0], approval.Log);
    }

    [Fact]
    public async Task The_export_is_read_under_the_bundles_scoped_rule()
    {
        using var scenario = await RecordedScenarioAsync();
        using var production = await fixture.ClientAsync(EvidenceFixture.ProductionApprover);
        using var staging = await fixture.ClientAsync(EvidenceFixture.StagingApprover);
        using var anonymous = await fixture.ClientAsync(null);

        Assert.Equal(HttpStatusCode.OK, (await production.GetAsync($"evidence/proposals/{scenario.ProposalId}/in-toto")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await staging.GetAsync($"evidence/proposals/{scenario.ProposalId}/in-toto")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"evidence/proposals/{scenario.ProposalId}/in-toto")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await production.GetAsync($"evidence/proposals/{Guid.NewGuid()}/in-toto")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await production.GetAsync("evidence/proposals/nope/in-toto")).StatusCode);
        var endpoint = fixture.Evidence.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Single(e => e.RoutePattern.RawText == "/evidence/proposals/{id}/in-toto");
        Assert.Equal(Permissions.EvidenceRead, endpoint.Metadata.GetMetadata<RequiresPermission>()!.Permission);
    }

    [Fact]
    public async Task The_cli_exports_a_file_that_verifies_and_a_flipped_byte_fails()
    {
        using var scenario = await RecordedScenarioAsync();
        var directory = Directory.CreateTempSubdirectory("cp-intoto-").FullName;
        try
        {
            var exported = Path.Combine(directory, "proposal.intoto.jsonl");
            var (exit, output) = await CliRun.EvidenceAsync("export", scenario.ProposalId.ToString(), "--in-toto", "-o", exported,
                "--token", await fixture.TokenAsync(EvidenceFixture.Viewer), "--evidence-url", fixture.Evidence.BaseAddress.ToString());
            Assert.True(exit == 0, output);

            var keys = Path.Combine(directory, "keys.json");
            using (var anonymous = await fixture.ClientAsync(null))
            {
                await File.WriteAllTextAsync(keys, await anonymous.GetStringAsync("evidence/keys"));
            }

            var (verified, report) = await CliRun.EvidenceAsync("verify", "--in-toto", exported, "--keys", keys, "--content-hash", "sha256:" + new string('a', 64));
            Assert.True(verified == 0, report);
            Assert.Equal(4, report.Split('\n').Count(l => l.StartsWith("ok ", StringComparison.Ordinal)));
            Assert.Contains($"4 statement(s) verify: subject proposal/{scenario.ProposalId:D} sha256:{new string('a', 64)}", report, StringComparison.Ordinal);

            // With the proposal's evidence bundle, each statement is tied to a record the bundle proves in the log.
            var evidence = Path.Combine(directory, "evidence.json");
            var (downloaded, downloadOutput) = await CliRun.EvidenceAsync("bundle", scenario.ProposalId.ToString(), "--out", evidence,
                "--token", await fixture.TokenAsync(EvidenceFixture.Viewer), "--evidence-url", fixture.Evidence.BaseAddress.ToString());
            Assert.True(downloaded == 0, downloadOutput);
            var (tied, tiedReport) = await CliRun.EvidenceAsync("verify", exported, "--in-toto", "--keys", keys, "--bundle", evidence);
            Assert.True(tied == 0, tiedReport);
            Assert.Contains("ok   the evidence bundle verifies (log required) and holds and proves every attested record", tiedReport, StringComparison.Ordinal);

            // One changed character inside the third statement's payload: that line no longer verifies.
            var lines = (await File.ReadAllTextAsync(exported)).TrimEnd('\n').Split('\n');
            var envelope = JsonNode.Parse(lines[2])!.AsObject();
            var payload = Convert.FromBase64String(envelope["payload"]!.GetValue<string>());
            payload[payload.Length / 2] ^= 0x01;
            envelope["payload"] = Convert.ToBase64String(payload);
            lines[2] = envelope.ToJsonString();
            var tampered = Path.Combine(directory, "tampered.intoto.jsonl");
            await File.WriteAllTextAsync(tampered, string.Join("\n", lines) + "\n", Encoding.UTF8);
            var (failed, failure) = await CliRun.EvidenceAsync("verify", "--in-toto", tampered, "--keys", keys);
            Assert.Equal(1, failed);
            Assert.Contains("FAIL line 3: signature by 'evidence-", failure, StringComparison.Ordinal);
            Assert.Contains("In-toto attestations do not verify.", failure, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private async Task<EvidenceKeySet> KeysAsync()
    {
        using var anonymous = await fixture.ClientAsync(null);
        return (await anonymous.GetFromJsonAsync<EvidenceKeySet>("evidence/keys", EvidenceFormat.Json))!;
    }

    private async Task<EvidenceScenario> RecordedScenarioAsync()
    {
        var scenario = EvidenceScenario.Create(workSteps: 2, interleave: false);
        foreach (var e in scenario.Events)
        {
            await fixture.Publisher.PublishAsync(e.Message);
        }

        await fixture.WaitForRecordsAsync(scenario.ProposalId, scenario.Events.Count(e => e.ProposalId is not null));
        return scenario;
    }
}
