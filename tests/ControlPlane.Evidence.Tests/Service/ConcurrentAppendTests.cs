using System.Diagnostics;
using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification;
using ControlPlane.Evidence.Recording;
using ControlPlane.EvidenceScenarios;
using ControlPlane.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.Evidence.Tests.Service;

/// <summary>Two evidence replicas, eight concurrent consumers each, competing for one queue and one chain.</summary>
public sealed class ConcurrentEvidenceFixture : EvidenceFixture
{
    protected override int ConsumerConcurrency => 8;

    protected override int ReplicaCount => 2;
}

/// <summary>Runs alone, so the figures it prints are not shared with other test classes.</summary>
[CollectionDefinition(nameof(ConcurrentAppendTests), DisableParallelization = true)]
public sealed class ConcurrentAppendCollection;

/// <summary>
/// Concurrency and throughput: the chain never forks under concurrent appends (many publishers, two replicas,
/// parallel writers), and the append rate is measured and printed (see the test output).
/// </summary>
[Collection(nameof(ConcurrentAppendTests))]
public sealed class ConcurrentAppendTests(ConcurrentEvidenceFixture fixture) : IClassFixture<ConcurrentEvidenceFixture>
{
    [Fact]
    public async Task Many_publishers_and_two_replicas_keep_one_unbroken_chain()
    {
        const int publishers = 6, perPublisher = 60, proposals = 12;
        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        var before = (await auditor.GetFromJsonAsync<ChainVerification>("evidence/chain/verify", EvidenceFormat.Json))!.Records;
        var proposalIds = Enumerable.Range(0, proposals).Select(_ => Guid.NewGuid()).ToArray();
        var buses = new List<TestBus>();
        for (var i = 0; i < publishers; i++)
        {
            buses.Add(await TestBus.StartAsync(fixture.VirtualHost));
        }

        try
        {
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(buses.Select((bus, p) => Task.Run(async () =>
            {
                for (var i = 0; i < perPublisher; i++)
                {
                    var proposalId = proposalIds[(p + i) % proposals];
                    await bus.PublishAsync(new ProposalStateChanged(proposalId, ProposalState.Assessing, ProposalState.AwaitingApproval,
                        $"publisher {p} event {i}", $"publisher-{p}", i, DateTimeOffset.UtcNow));
                }
            })));
            var published = clock.Elapsed;

            var total = before + (publishers * perPublisher);
            var chain = await Eventually.UntilAsync(
                async () => (await auditor.GetFromJsonAsync<ChainVerification>("evidence/chain/verify", EvidenceFormat.Json))!,
                c => !c.Ok || c.Records >= total, TimeSpan.FromSeconds(90), $"{total} records");
            var recorded = clock.Elapsed;

            Assert.True(chain.Ok, $"broken at {chain.BrokenAt}: {chain.Reason}");
            Assert.Equal(total, chain.Records);
            Report($"bus end to end: {publishers * perPublisher} events from {publishers} publishers into 2 replicas x 8 consumers: " +
                $"published in {published.TotalSeconds:0.00} s, all recorded after {recorded.TotalSeconds:0.00} s = {publishers * perPublisher / recorded.TotalSeconds:0} records/s");
        }
        finally
        {
            foreach (var bus in buses)
            {
                await bus.DisposeAsync();
            }
        }

        // Each proposal's own chain is intact too: its bundle verifies offline.
        foreach (var proposalId in proposalIds)
        {
            using var response = await auditor.GetAsync($"evidence/proposals/{proposalId}/bundle");
            var verification = EvidenceBundleVerifier.Verify(await response.Content.ReadAsByteArrayAsync());
            Assert.True(verification.Ok, $"{proposalId}: {verification.Failure}");
        }
    }

    [Fact]
    public async Task Two_replicas_starting_together_create_and_record_one_evidence_key()
    {
        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        using var anonymous = await fixture.ClientAsync(null, fixture.Replicas[1]);

        var page = await auditor.GetFromJsonAsync<EvidencePage>($"evidence/records?kind={nameof(SigningKeyPublished)}&actor=evidence", EvidenceFormat.Json);
        var keys = await anonymous.GetFromJsonAsync<EvidenceKeySet>("evidence/keys", EvidenceFormat.Json);

        var record = Assert.Single(page!.Records);
        var key = Assert.Single(keys!.Keys);
        Assert.Equal(key.KeyId, record.Payload["keyId"]!.GetValue<string>());
        Assert.Equal(key.PublicKey, record.Payload["publicKey"]!.GetValue<string>());
    }

    [Fact]
    public async Task Append_throughput_against_real_postgresql()
    {
        var log = fixture.Evidence.Services.GetRequiredService<EvidenceLog>();
        using var scenario = EvidenceScenario.Create(workSteps: 4, interleave: false);
        var drafts = scenario.Events
            .Select(e => new EvidenceDraft(e.Message.GetType().Name, e.ProposalId, e.Actor, e.OccurredAt,
                CanonicalJson.Serialize(System.Text.Json.JsonSerializer.SerializeToNode(e.Message, e.Message.GetType(), ContractJson.Options))))
            .ToArray();

        foreach (var writers in (int[])[1, 4, 16])
        {
            const int perWriter = 120;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < perWriter; i++)
                {
                    await log.AppendOnceAsync(drafts[(w + i) % drafts.Length], Guid.NewGuid(), CancellationToken.None);
                }
            })));
            Report($"direct appends: {writers,2} writers x {perWriter} = {writers * perWriter} records in {clock.Elapsed.TotalSeconds:0.00} s = " +
                $"{writers * perWriter / clock.Elapsed.TotalSeconds:0} records/s");
        }

        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        var clockVerify = Stopwatch.StartNew();
        var chain = (await auditor.GetFromJsonAsync<ChainVerification>("evidence/chain/verify", EvidenceFormat.Json))!;
        Report($"server-side chain verification: {chain.Records} records in {clockVerify.Elapsed.TotalSeconds:0.00} s");
        Assert.True(chain.Ok, $"broken at {chain.BrokenAt}: {chain.Reason}");
    }

    private static void Report(string line)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        TestContext.Current.SendDiagnosticMessage(line);
        Console.WriteLine("[evidence] " + line);
    }
}
