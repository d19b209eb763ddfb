using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Redaction;
using ControlPlane.Evidence.Verification;
using ControlPlane.EvidenceScenarios;
using ControlPlane.Testing;
using Npgsql;

namespace ControlPlane.Evidence.Tests.Service;

/// <summary>
/// Verifiable redaction on the real service (bus, PostgreSQL, identity): an approval with a comment, results with
/// command output and a step with a secret parameter are recorded as commitments; a viewer's bundle leaves them out,
/// an auditor's discloses them, both verify, and both disclosures are evidence.
/// </summary>
public sealed class RedactionServiceTests(EvidenceFixture fixture) : IClassFixture<EvidenceFixture>
{
    private const string Comment = "leak confirmed in dashboards";
    private const string Secret = "tok-9f2a-never-in-the-clear";

    [Fact]
    public async Task A_reader_gets_commitments_an_auditor_gets_values_both_verify_and_both_disclosures_are_recorded()
    {
        using var scenario = EvidenceScenario.Create(workSteps: 2, interleave: false);
        foreach (var e in scenario.Events)
        {
            await fixture.Publisher.PublishAsync(e.Message);
        }

        var at = scenario.Events[^1].OccurredAt.AddSeconds(1);
        await fixture.Publisher.PublishAsync(new WorkRequested(scenario.ProposalId, Guid.NewGuid(), WorkStep.Execute, "rotate", "remediation", "run-command",
            new Dictionary<string, string> { ["command"] = "rotate", ["apiToken"] = Secret }, ["billing"], "production", "sha256:" + new string('a', 64),
            new Dictionary<string, long> { ["billing"] = 9 }, TimeSpan.FromMinutes(5), at));
        var count = scenario.Events.Count(e => e.ProposalId is not null) + 1;
        await fixture.WaitForRecordsAsync(scenario.ProposalId, count);
        await AssertNoPlaintextStoredInTheLogAsync();
        using var anonymous = await fixture.ClientAsync(null);
        var trusted = (await anonymous.GetFromJsonAsync<EvidenceKeySet>("evidence/keys", EvidenceFormat.Json))!.Keys[0].Fingerprint;

        var reader = await BundleAsync(EvidenceFixture.Viewer, scenario.ProposalId);
        var readerCheck = EvidenceBundleVerifier.Verify(reader, new BundleVerifyOptions(trusted, RequireLogProof: true));
        Assert.True(readerCheck.Ok, $"{readerCheck.FailedCheck}: {readerCheck.Failure}");
        Assert.Contains("redaction: 4 fields redacted (commitments intact)", readerCheck.Passed);
        var readerText = Encoding.UTF8.GetString(reader);
        Assert.DoesNotContain(Comment, readerText, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, readerText, StringComparison.Ordinal);

        var full = await BundleAsync(EvidenceFixture.Auditor, scenario.ProposalId);
        var fullCheck = EvidenceBundleVerifier.Verify(full, new BundleVerifyOptions(trusted, RequireLogProof: true));
        Assert.True(fullCheck.Ok, $"{fullCheck.FailedCheck}: {fullCheck.Failure}");
        Assert.Contains("redaction: 4 sensitive fields disclosed and checked", fullCheck.Passed);
        Assert.Contains(fullCheck.Passed, p => p.StartsWith("results: 2 signed results verify", StringComparison.Ordinal));
        var disclosed = JsonSerializer.Deserialize<EvidenceBundle>(full, EvidenceFormat.Json)!;
        Assert.Equal(Comment, disclosed.Commitments!.Single(c => c.Path == "/comment").Value!.GetValue<string>());
        Assert.Equal(Secret, disclosed.Commitments!.Single(c => c.Path == "/parameters/apiToken").Value!.GetValue<string>());

        // Who saw what is evidence of the proposal: the viewer's redacted bundle and the auditor's full one.
        var records = await fixture.WaitForRecordsAsync(scenario.ProposalId, count + 2);
        var redacted = records.Single(r => r.Kind == BundleDisclosures.RedactedKind);
        var fullDisclosure = records.Single(r => r.Kind == BundleDisclosures.FullKind);
        Assert.Equal((EvidenceFixture.Viewer, "lacks evidence:read-sensitive"), (redacted.Actor, redacted.Payload["reason"]!.GetValue<string>()));
        Assert.Equal(EvidenceFixture.Auditor, fullDisclosure.Actor);
        var approval = records.Single(r => r.Kind == nameof(ApprovalRecorded));
        Assert.Contains(redacted.Payload["fields"]!.AsArray(), f => f!["sequence"]!.GetValue<long>() == approval.Sequence && f["path"]!.GetValue<string>() == "/comment"
            && !f["disclosed"]!.GetValue<bool>());
        Assert.Equal(4, fullDisclosure.Payload["fields"]!.AsArray().Count(f => f!["disclosed"]!.GetValue<bool>()));
        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        var listed = await auditor.GetFromJsonAsync<EvidencePage>($"evidence/records?kind={BundleDisclosures.RedactedKind}&actor={Uri.EscapeDataString(EvidenceFixture.Viewer)}", EvidenceFormat.Json);
        Assert.Contains(listed!.Records, r => r.Sequence == redacted.Sequence);

        // A single flipped bit in a disclosed value fails, naming the record and the field.
        var tampered = JsonNode.Parse(full)!;
        var entry = tampered["commitments"]!.AsArray().Single(c => c!["path"]!.GetValue<string>() == "/comment")!;
        entry["value"] = Comment[..^1] + (char)(Comment[^1] ^ 1);
        var tamperedCheck = EvidenceBundleVerifier.Verify(Encoding.UTF8.GetBytes(tampered.ToJsonString()), new BundleVerifyOptions(trusted));
        Assert.Equal($"record {approval.Sequence} (ApprovalRecorded) field /comment: the disclosed value and salt do not match its commitment", tamperedCheck.Failure);
    }

    private async Task<byte[]> BundleAsync(string principal, Guid proposalId)
    {
        using var client = await fixture.ClientAsync(principal);
        using var response = await client.GetAsync(new Uri($"evidence/proposals/{proposalId}/bundle", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }

    private async Task AssertNoPlaintextStoredInTheLogAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.Database.ConnectionString);
        await connection.OpenAsync();
        await using var leaked = new NpgsqlCommand("select count(*) from evidence_records where payload like $1 or payload like $2", connection)
        {
            Parameters = { new() { Value = $"%{Comment}%" }, new() { Value = $"%{Secret}%" } },
        };
        Assert.Equal(0L, await leaked.ExecuteScalarAsync());
        await using var kept = new NpgsqlCommand("select count(*) from evidence_field_values where value = $1", connection) { Parameters = { new() { Value = $"\"{Comment}\"" } } };
        Assert.True((long)(await kept.ExecuteScalarAsync())! >= 1);
    }
}
