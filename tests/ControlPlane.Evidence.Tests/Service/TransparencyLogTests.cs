using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Apis;
using ControlPlane.Evidence.Transparency;
using ControlPlane.Evidence.Verification.Transparency;
using ControlPlane.EvidenceScenarios;
using ControlPlane.Testing;
using Npgsql;

namespace ControlPlane.Evidence.Tests.Service;

/// <summary>
/// The evidence log as an RFC 9162 tree over the real service and PostgreSQL: signed C2SP checkpoints, inclusion
/// proofs of real records, consistency proofs between checkpoints, all checked with the offline verifier; and a
/// rewritten record makes evidence refuse to sign again.
/// </summary>
public sealed class TransparencyLogTests(TransparencyLogTests.Fixture fixture) : IClassFixture<TransparencyLogTests.Fixture>
{
    private const string Origin = "test.controlplane/evidence";

    /// <summary>Its own database: the last test rewrites a record under a checkpoint.</summary>
    public sealed class Fixture : EvidenceFixture
    {
        protected override void Configure(PlaneSettings settings) =>
            settings.Set("Evidence:LogOrigin", Origin).Set("Evidence:Checkpoints:Interval", "00:10:00");
    }

    [Fact]
    public async Task Checkpoints_are_signed_notes_and_every_record_is_provably_in_them()
    {
        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        var first = await PublishAsync(auditor);

        using var scenario = EvidenceScenario.Create(workSteps: 1, interleave: false);
        foreach (var e in scenario.Events)
        {
            await fixture.Publisher.PublishAsync(e.Message);
        }

        var records = await fixture.WaitForRecordsAsync(scenario.ProposalId, scenario.Events.Count(e => e.ProposalId is not null));
        var second = await PublishAsync(auditor);
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
    public async Task A_rewritten_record_under_a_checkpoint_stops_evidence_from_signing_again()
    {
        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        var before = await PublishAsync(auditor);
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
            .Set("Evidence:LogOrigin", Origin)
            .Set("Evidence:Checkpoints:Interval", "00:10:00")
            .Build());
        using var fresh = replica.CreateHttpClient(await fixture.TokenAsync(EvidenceFixture.Auditor));
        using var refused = await fresh.PostAsync("evidence/checkpoints", null);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains($"checkpoint at size {before.Size}", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<(long Size, byte[] RootHash, string Note)> PublishAsync(HttpClient auditor)
    {
        using var response = await auditor.PostAsync("evidence/checkpoints", null);
        var note = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, note);
        Assert.True(SignedNote.TryParse(note, out var signed, out var failure), failure);
        using var key = await EvidenceKeyAsync();
        Assert.True(signed!.VerifyEcdsa(Origin, key, out failure), failure);
        Assert.True(Checkpoint.TryParse(signed.Text, out var checkpoint, out failure), failure);
        Assert.Equal(Origin, checkpoint!.Origin);
        return (checkpoint.Size, checkpoint.RootHash, note);
    }

    private async Task<ECDsa> EvidenceKeyAsync()
    {
        using var anonymous = await fixture.ClientAsync(null);
        var keys = await anonymous.GetFromJsonAsync<EvidenceKeySet>("evidence/keys", EvidenceFormat.Json);
        var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(Assert.Single(keys!.Keys).PublicKey), out _);
        return key;
    }
}
