using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Recording;
using ControlPlane.Evidence.Transparency;
using ControlPlane.Evidence.Verification.Transparency;
using ControlPlane.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ControlPlane.Evidence.Tests.Service;

/// <summary>
/// The log's group commit against real PostgreSQL: producers on two replicas append at once, many records share a
/// transaction, and the chain, each proposal's chain and the Merkle tree stay what one-at-a-time appends would give.
/// </summary>
[Collection(nameof(ConcurrentAppendTests))]
public sealed class BatchedAppendTests(ConcurrentEvidenceFixture fixture) : IClassFixture<ConcurrentEvidenceFixture>
{
    private static readonly EvidenceKind<ProposalStateChanged> Kind = EvidenceKinds.Of<ProposalStateChanged>();

    [Fact]
    public async Task An_append_tags_the_span_it_runs_in_with_its_sequence_instead_of_adding_one()
    {
        using var source = new System.Diagnostics.ActivitySource("ControlPlane.Evidence.Tests.Consume");
        var started = new System.Collections.Concurrent.ConcurrentBag<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = started.Add,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        var log = fixture.Evidence.Services.GetRequiredService<EvidenceLog>();

        EvidenceRecord record;
        using (var consume = source.StartActivity("consume ProposalStateChanged"))
        {
            Assert.NotNull(consume);
            record = (await log.AppendOnceAsync(Draft(Guid.NewGuid(), "traced append"), Guid.NewGuid(), TestContext.Current.CancellationToken))!;
            Assert.Equal(record.Sequence, consume.GetTagItem("controlplane.evidence.sequence"));
        }

        Assert.DoesNotContain(started, a => a.OperationName.StartsWith("evidence append", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Concurrent_producers_on_two_replicas_share_transactions_and_keep_the_chain_and_the_tree()
    {
        const int producers = 24, perProducer = 30;
        var logs = fixture.Replicas.Select(r => r.Services.GetRequiredService<EvidenceLog>()).ToArray();
        var proposals = Enumerable.Range(0, 5).Select(_ => Guid.NewGuid()).ToArray();

        var appended = await Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
        {
            var records = new List<EvidenceRecord>();
            for (var i = 0; i < perProducer; i++)
            {
                var draft = Draft(proposals[(p + i) % proposals.Length], $"producer {p} event {i}");
                records.Add((await logs[p % logs.Length].AppendOnceAsync(draft, Guid.NewGuid(), CancellationToken.None))!);
            }

            return records;
        })));

        var sequences = appended.SelectMany(r => r).Select(r => r.Sequence).Order().ToArray();
        Assert.Equal(producers * perProducer, sequences.Distinct().Count());

        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        var chain = (await auditor.GetFromJsonAsync<ChainVerification>("evidence/chain/verify", EvidenceFormat.Json))!;
        Assert.True(chain.Ok, $"broken at {chain.BrokenAt}: {chain.Reason}");
        Assert.Equal(chain.HeadSequence, chain.Records);

        await using var db = NpgsqlDataSource.Create(fixture.Database.ConnectionString);
        // Records of one transaction share their recorded_at: fewer distinct instants than records means batches formed.
        await using (var shared = db.CreateCommand("select count(*) > count(distinct recorded_at) from evidence_records where sequence = any($1)"))
        {
            shared.Parameters.Add(new() { Value = sequences });
            Assert.Equal(true, await shared.ExecuteScalarAsync(TestContext.Current.CancellationToken));
        }

        // Each proposal's records link to the one before them, in log order.
        foreach (var proposal in proposals)
        {
            await using var links = db.CreateCommand("select proposal_prev_hash, record_hash from evidence_records where proposal_id = $1 order by sequence");
            links.Parameters.Add(new() { Value = proposal });
            var previous = EvidenceFormat.Genesis;
            await using var reader = await links.ExecuteReaderAsync(TestContext.Current.CancellationToken);
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                Assert.Equal(previous, reader.GetString(0));
                previous = reader.GetString(1);
            }
        }

        // Both replicas' trees equal a tree built afresh from the table, and prove every appended record.
        var expected = new MerkleTree();
        await using (var all = db.CreateCommand("select record_hash from evidence_records order by sequence"))
        await using (var reader = await all.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                expected.AppendLeafHash(EvidenceTree.LeafHash(reader.GetString(0)));
            }
        }

        foreach (var replica in fixture.Replicas)
        {
            var tree = replica.Services.GetRequiredService<EvidenceTree>();
            var (size, root, proven) = await tree.ReadAsync(t => (t.Size, t.RootHash(),
                appended.SelectMany(r => r).All(r => MerkleProofs.VerifyInclusion(r.Sequence - 1, t.Size, EvidenceTree.LeafHash(r.RecordHash),
                    t.InclusionProof(r.Sequence - 1, t.Size), t.RootHash()))), TestContext.Current.CancellationToken);
            Assert.Equal(expected.Size, size);
            Assert.Equal(expected.RootHash(), root);
            Assert.True(proven);
        }
    }

    [Fact]
    public async Task A_message_appended_twice_at_once_is_recorded_once()
    {
        var log = fixture.Evidence.Services.GetRequiredService<EvidenceLog>();
        var messageId = Guid.NewGuid();
        var draft = Draft(Guid.NewGuid(), "twice");

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => log.AppendOnceAsync(draft, messageId, CancellationToken.None))));

        Assert.Single(results, r => r is not null);
        await using var db = NpgsqlDataSource.Create(fixture.Database.ConnectionString);
        await using var count = db.CreateCommand("select count(*) from evidence_records where message_id = $1");
        count.Parameters.Add(new() { Value = messageId });
        Assert.Equal(1L, await count.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_failing_append_fails_alone_and_the_others_of_its_batch_commit()
    {
        var log = fixture.Evidence.Services.GetRequiredService<EvidenceLog>();
        var poisonId = Guid.NewGuid();
        var proposal = Guid.NewGuid();

        var attempts = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            var messageId = i == 7 ? poisonId : Guid.NewGuid();
            // The poisoned one's alongside statement fails inside the shared transaction.
            Func<IEnumerable<NpgsqlBatchCommand>>? alongside = i == 7 ? () => [new NpgsqlBatchCommand("select 1 / 0")] : null;
            return await log.AppendOnceAsync(Draft(proposal, $"event {i}"), messageId, CancellationToken.None, alongside);
        })).ToArray();

        var poisoned = attempts[7];
        await Assert.ThrowsAsync<PostgresException>(() => poisoned);
        foreach (var other in attempts.Where(a => a != poisoned))
        {
            Assert.NotNull(await other);
        }

        await using var db = NpgsqlDataSource.Create(fixture.Database.ConnectionString);
        await using var check = db.CreateCommand("""
            select (select count(*) from evidence_records where proposal_id = $1),
                   (select count(*) from evidence_records where message_id = $2),
                   (select count(*) from inbox_messages where message_id = $2)
            """);
        check.Parameters.Add(new() { Value = proposal });
        check.Parameters.Add(new() { Value = poisonId });
        await using var reader = await check.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        await reader.ReadAsync(TestContext.Current.CancellationToken);
        Assert.Equal(15L, reader.GetInt64(0));
        Assert.Equal(0L, reader.GetInt64(1));
        Assert.Equal(0L, reader.GetInt64(2)); // not marked consumed: its redelivery will be tried again
    }

    [Fact]
    public async Task Records_handed_over_together_are_appended_in_the_order_their_events_happened()
    {
        var log = fixture.Evidence.Services.GetRequiredService<EvidenceLog>();
        var proposal = Guid.NewGuid();
        var start = DateTimeOffset.UtcNow;
        // Latest first, all at once: while the first is written the others queue up and go as one batch.
        var drafts = Enumerable.Range(0, 64).Reverse().Select(i => Draft(proposal, $"event {i}", start.AddMilliseconds(i))).ToList();

        var records = await Task.WhenAll(drafts.Select(d => log.AppendOnceAsync(d, Guid.NewGuid(), CancellationToken.None)));

        // Records of one transaction share their recorded_at.
        var batches = records.Select(r => r!).GroupBy(r => r.RecordedAt).Select(g => g.OrderBy(r => r.Sequence).ToList()).ToList();
        Assert.Contains(batches, b => b.Count > 1);
        foreach (var batch in batches)
        {
            Assert.Equal(batch.Select(r => r.OccurredAt).Order(StringComparer.Ordinal), batch.Select(r => r.OccurredAt));
        }
    }

    private static EvidenceDraft Draft(Guid proposalId, string reason) => Draft(proposalId, reason, DateTimeOffset.UtcNow);

    private static EvidenceDraft Draft(Guid proposalId, string reason, DateTimeOffset at) =>
        Kind.Draft(new ProposalStateChanged(proposalId, ProposalState.Assessing, ProposalState.AwaitingApproval, reason, "tester", 1, at));
}
