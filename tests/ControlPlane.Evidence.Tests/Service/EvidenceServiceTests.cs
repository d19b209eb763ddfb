using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Cli.Tests.Evidence;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification;
using ControlPlane.Evidence.Verification.Redaction;
using ControlPlane.EvidenceScenarios;
using ControlPlane.Testing;
using Npgsql;

namespace ControlPlane.Evidence.Tests.Service;

/// <summary>The evidence service on the real bus and PostgreSQL: recording, reading, bundles, dedupe, append-only.</summary>
public sealed class EvidenceServiceTests(EvidenceFixture fixture) : IClassFixture<EvidenceFixture>
{
    [Fact]
    public async Task A_proposals_events_come_back_complete_in_order_and_the_chain_verifies()
    {
        using var scenario = EvidenceScenario.Create(workSteps: 2, interleave: false);
        await PublishAsync(scenario);
        var expected = scenario.Events.Where(e => e.ProposalId is not null).ToList();

        var records = await fixture.WaitForRecordsAsync(scenario.ProposalId, expected.Count);

        Assert.Equal(expected.Select(e => e.Message.GetType().Name), records.Select(r => r.Kind));
        Assert.Equal(expected.Select(e => EvidenceFormat.Timestamp(e.OccurredAt)), records.Select(r => r.OccurredAt));
        // Each payload is the event's, with its sensitive fields (the comment, command output) standing as their commitments.
        Assert.Equal(expected.Zip(records).Select(pair => CanonicalJson.HashBytes(CanonicalJson.Serialize(Committed(pair.First.Message, pair.Second)))),
            records.Select(r => r.PayloadHash));
        Assert.Equal(3, records.Sum(r => SensitiveFields.Find(r).Count));
        Assert.Equal(EvidenceFormat.Genesis, records[0].ProposalPrevHash);
        Assert.All(records.Zip(records.Skip(1)), pair =>
        {
            Assert.True(pair.Second.Sequence > pair.First.Sequence);
            Assert.Equal(pair.First.RecordHash, pair.Second.ProposalPrevHash);
        });
        Assert.All(records, r => Assert.Null(EvidenceChain.CheckHashes(r)));
        Assert.Equal(EvidenceFixture.ProductionApprover, records.Single(r => r.Kind == nameof(ApprovalRecorded)).Actor);
        Assert.Equal("remediation-agent", records[0].Actor);

        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        var chain = await auditor.GetFromJsonAsync<ChainVerification>("evidence/chain/verify", EvidenceFormat.Json);
        Assert.True(chain!.Ok, chain.Reason);
        Assert.True(chain.Records >= records[^1].Sequence);
    }

    [Fact]
    public async Task The_bundle_verifies_offline_with_the_verifier_and_with_the_cli()
    {
        using var scenario = EvidenceScenario.Create(workSteps: 2, interleave: false);
        await PublishAsync(scenario);
        await fixture.WaitForRecordsAsync(scenario.ProposalId, scenario.Events.Count(e => e.ProposalId is not null));
        using var anonymous = await fixture.ClientAsync(null);
        var keys = (await anonymous.GetFromJsonAsync<EvidenceKeySet>("evidence/keys", EvidenceFormat.Json))!.Keys;
        var trusted = Assert.Single(keys).Fingerprint;

        using var viewer = await fixture.ClientAsync(EvidenceFixture.Viewer);
        using var response = await viewer.GetAsync($"evidence/proposals/{scenario.ProposalId}/bundle");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadAsByteArrayAsync();

        var verification = EvidenceBundleVerifier.Verify(json, new BundleVerifyOptions(trusted));
        Assert.True(verification.Ok, $"{verification.FailedCheck}: {verification.Failure}");
        var bundle = JsonSerializer.Deserialize<EvidenceBundle>(json, EvidenceFormat.Json)!;
        Assert.Equal(new[] { EvidenceScenario.FleetKeyId, EvidenceScenario.RunnerKeyId, keys[0].KeyId }.Order(StringComparer.Ordinal),
            bundle.Keys.Select(k => k.KeyId).Order(StringComparer.Ordinal));
        Assert.Equal(2, bundle.WorkPackages.Count);
        Assert.Equal(2, bundle.Results.Count);

        var directory = Directory.CreateTempSubdirectory("cp-evidence-").FullName;
        try
        {
            var path = Path.Combine(directory, "served.json");
            await File.WriteAllBytesAsync(path, json);
            var (verified, verifyOutput) = await CliRun.EvidenceAsync("verify", path, "--trust", trusted, "--require-log");
            Assert.True(verified == 0, verifyOutput);
            Assert.Matches(@"ok\s+transparency log: \d+ records proven in checkpoint", verifyOutput);

            var downloaded = Path.Combine(directory, "downloaded.json");
            var (exit, output) = await CliRun.EvidenceAsync("bundle", scenario.ProposalId.ToString(), "--out", downloaded,
                "--token", await fixture.TokenAsync(EvidenceFixture.Viewer), "--evidence-url", fixture.Evidence.BaseAddress.ToString());
            Assert.True(exit == 0, output);
            Assert.Contains(downloaded, output, StringComparison.Ordinal);
            var (downloadedVerified, downloadedOutput) = await CliRun.EvidenceAsync("verify", downloaded, "--trust", trusted);
            Assert.True(downloadedVerified == 0, downloadedOutput);
            Assert.Contains("Bundle verifies.", downloadedOutput, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task The_same_message_delivered_twice_is_recorded_once()
    {
        var proposalId = Guid.NewGuid();
        var messageId = Guid.NewGuid();
        var changed = new ProposalStateChanged(proposalId, ProposalState.Submitted, ProposalState.Assessing, "assess", "orchestrator", 1, DateTimeOffset.UtcNow);
        await fixture.Publisher.PublishAsync(changed, messageId);
        await fixture.Publisher.PublishAsync(changed, messageId);
        // One consumer drains the queue in order: once the sentinel is recorded, both copies have been handled.
        await fixture.Publisher.PublishAsync(changed with { To = ProposalState.AwaitingApproval, Version = 2 });

        var records = await fixture.WaitForRecordsAsync(proposalId, 2);
        await Task.Delay(500);
        records = await fixture.WaitForRecordsAsync(proposalId, 2);

        Assert.Equal(["assessing", "awaiting-approval"], records.Select(r => r.Payload["to"]!.GetValue<string>()));
        await using var connection = new NpgsqlConnection(fixture.Database.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("select count(*) from evidence_records where message_id = $1", connection) { Parameters = { new() { Value = messageId } } };
        Assert.Equal(1L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Update_delete_and_truncate_on_the_evidence_table_fail_even_for_the_superuser()
    {
        await using var connection = new NpgsqlConnection(fixture.Database.ConnectionString);
        await connection.OpenAsync();
        await using var before = new NpgsqlCommand("select record_hash, actor from evidence_records where sequence = 1", connection);
        string hash;
        await using (var reader = await before.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            hash = reader.GetString(0);
        }

        foreach (var sql in (string[])["update evidence_records set actor = 'mallory' where sequence = 1", "delete from evidence_records where sequence = 1", "truncate evidence_records"])
        {
            await using var command = new NpgsqlCommand(sql, connection);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
            Assert.Contains("evidence_records is append-only", refused.MessageText, StringComparison.Ordinal);
        }

        await using var after = new NpgsqlCommand("select record_hash from evidence_records where sequence = 1", connection);
        Assert.Equal(hash, await after.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Unknown_proposals_are_404_and_bad_ids_400_as_problem_details()
    {
        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);

        using var unknown = await auditor.GetAsync($"evidence/proposals/{Guid.NewGuid()}/bundle");
        using var unknownRecords = await auditor.GetAsync($"evidence/proposals/{Guid.NewGuid()}");
        using var bad = await auditor.GetAsync("evidence/proposals/not-a-uuid");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, unknownRecords.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("\"id\"", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Records_are_paged_by_sequence_and_filtered_by_kind_and_actor()
    {
        for (var i = 0; i < 5; i++)
        {
            await fixture.Publisher.PublishAsync(new GraphChanged(1000 + i, "node-upserted", $"node-{i}", "paging-admin@example.com", DateTimeOffset.UtcNow));
        }

        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        await Eventually.UntilAsync(
            async () => (await auditor.GetFromJsonAsync<EvidencePage>("evidence/records?actor=paging-admin@example.com", EvidenceFormat.Json))!.Records.Count,
            n => n == 5, TimeSpan.FromSeconds(30), "five GraphChanged records");

        var first = (await auditor.GetFromJsonAsync<EvidencePage>("evidence/records?kind=GraphChanged&actor=paging-admin@example.com&limit=3", EvidenceFormat.Json))!;
        var second = (await auditor.GetFromJsonAsync<EvidencePage>($"evidence/records?kind=GraphChanged&actor=paging-admin@example.com&limit=3&since={first.Next}", EvidenceFormat.Json))!;

        Assert.Equal(3, first.Records.Count);
        Assert.NotNull(first.Next);
        Assert.Equal(2, second.Records.Count);
        Assert.Null(second.Next);
        var all = first.Records.Concat(second.Records).ToList();
        Assert.Equal(all.Select(r => r.Sequence).Order(), all.Select(r => r.Sequence));
        Assert.All(all, r => Assert.Equal(nameof(GraphChanged), r.Kind));

        using var invalid = await auditor.GetAsync("evidence/records?kind=Nope&limit=0&since=-1");
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var problem = await invalid.Content.ReadAsStringAsync();
        Assert.Contains("\"kind\"", problem, StringComparison.Ordinal);
        Assert.Contains("\"limit\"", problem, StringComparison.Ordinal);
        Assert.Contains("\"since\"", problem, StringComparison.Ordinal);
    }

    /// <summary>The event as JSON with a commitment marker wherever the record holds one.</summary>
    private static JsonNode Committed(object message, EvidenceRecord record)
    {
        var node = JsonSerializer.SerializeToNode(message, message.GetType(), ContractJson.Options)!;
        foreach (var (path, commitment) in SensitiveFields.Find(record))
        {
            var names = path.Split('/')[1..].Select(n => n.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList();
            var parent = names[..^1].Aggregate(node, (at, name) => at[name]!);
            parent[names[^1]] = FieldCommitment.Marker(commitment);
        }

        return node;
    }

    private async Task PublishAsync(EvidenceScenario scenario)
    {
        foreach (var e in scenario.Events)
        {
            await fixture.Publisher.PublishAsync(e.Message);
        }
    }
}
