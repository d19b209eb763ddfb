using System.Net;
using ControlPlane.Testing;
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

        // What an attacker with database access would do: disable the append-only trigger and change a record.
        await using (var connection = new NpgsqlConnection(fixture.Database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var rewrite = new NpgsqlCommand(
                "alter table evidence_records disable trigger evidence_records_no_update_or_delete; " +
                "update evidence_records set record_hash = 'sha256:' || repeat('0', 64) where sequence = 1; " +
                "alter table evidence_records enable trigger evidence_records_no_update_or_delete;", connection);
            await rewrite.ExecuteNonQueryAsync();
        }

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
}
