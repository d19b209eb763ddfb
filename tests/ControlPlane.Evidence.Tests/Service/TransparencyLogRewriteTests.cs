using System.Net;
using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Apis;
using ControlPlane.Evidence.Recording;
using ControlPlane.Evidence.Verification.Transparency;
using ControlPlane.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ControlPlane.Evidence.Tests.Service;

/// <summary>A record rewritten under a signed checkpoint (what an attacker with database access does) makes evidence
/// refuse to sign any further checkpoint. Its own fixture and database: the rewrite breaks the log for good.</summary>
public sealed class TransparencyLogRewriteTests(TransparencyLogTests.Fixture fixture) : IClassFixture<TransparencyLogTests.Fixture>
{
    [Fact]
    public async Task A_rewritten_record_under_a_checkpoint_stops_evidence_from_signing_again()
    {
        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        var before = await TransparencyLogTests.PublishAsync(fixture, auditor);
        Assert.True(before.Size > 0);

        await RewriteRecordHashAsync(fixture.Database.ConnectionString, sequence: 1);

        // A fresh replica rebuilds its tree from the database and must refuse to sign a checkpoint that does not extend the old one.
        await using var replica = new ServiceHost<EvidenceService>(new PlaneSettings(fixture.VirtualHost, PlaneSettings.NewRedisPrefix())
            .Database("evidence-db", fixture.Database.ConnectionString)
            .Service("identity", fixture.Identity.Address)
            .Set("Evidence:LogOrigin", TransparencyLogTests.Origin)
            .Set("Evidence:Checkpoints:Interval", "00:10:00")
            .Build());
        using var fresh = replica.CreateHttpClient(await fixture.TokenAsync(EvidenceFixture.Auditor));
        using var refused = await fresh.PostAsync("evidence/checkpoints", null);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains($"checkpoint at size {before.Size}", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>What an attacker with database access would do: disable the append-only trigger and change a record.</summary>
    internal static async Task RewriteRecordHashAsync(string connectionString, long sequence)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var rewrite = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new("alter table evidence_records disable trigger evidence_records_no_update_or_delete"),
                new("update evidence_records set record_hash = 'sha256:' || repeat('0', 64) where sequence = $1") { Parameters = { new() { Value = sequence } } },
                new("alter table evidence_records enable trigger evidence_records_no_update_or_delete"),
            },
        };
        await rewrite.ExecuteNonQueryAsync();
    }
}

/// <summary>
/// Evidence keeps only the roots of complete 256-record tiles and reads a tile's records back for a proof: a record
/// rewritten under a tile after it was appended is refused there (409), not proven from the changed data. Its own
/// fixture and database, for the same reason as above.
/// </summary>
public sealed class TransparencyTileRewriteTests(TransparencyLogTests.Fixture fixture) : IClassFixture<TransparencyLogTests.Fixture>
{
    private static readonly EvidenceKind<ProposalStateChanged> Kind = EvidenceKinds.Of<ProposalStateChanged>();

    [Fact]
    public async Task A_record_rewritten_under_a_complete_tile_is_refused_not_proven()
    {
        var log = fixture.Evidence.Services.GetRequiredService<EvidenceLog>();
        var proposal = Guid.NewGuid();
        for (var i = 0; i < 300; i++)
        {
            var draft = Kind.Draft(new ProposalStateChanged(proposal, ProposalState.Assessing, ProposalState.AwaitingApproval, $"event {i}", "tester", 1, DateTimeOffset.UtcNow));
            await log.AppendOnceAsync(draft, Guid.NewGuid(), TestContext.Current.CancellationToken);
        }

        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        var checkpoint = await TransparencyLogTests.PublishAsync(fixture, auditor);
        Assert.True(checkpoint.Size >= 300, $"checkpoint at {checkpoint.Size}");
        // Record 10 sits in the first tile, whose lower levels the service read back from the database to prove it.
        var proof = await auditor.GetFromJsonAsync<InclusionProofResponse>($"evidence/proofs/inclusion?sequence=10&size={checkpoint.Size}",
            TestContext.Current.CancellationToken);
        Assert.True(MerkleProofs.VerifyInclusion(9, checkpoint.Size, Convert.FromBase64String(proof!.LeafHash),
            [.. proof.Proof.Select(Convert.FromBase64String)], checkpoint.RootHash));

        await TransparencyLogRewriteTests.RewriteRecordHashAsync(fixture.Database.ConnectionString, sequence: 10);

        using var refused = await auditor.GetAsync($"evidence/proofs/inclusion?sequence=11&size={checkpoint.Size}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("records 1 to 256 no longer hash", await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        // A proof from another tile still stands.
        using var other = await auditor.GetAsync($"evidence/proofs/inclusion?sequence=290&size={checkpoint.Size}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }
}
