using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification;
using ControlPlane.Evidence.Verification.Transparency;
using ControlPlane.EvidenceScenarios;
using ControlPlane.Testing;
using ControlPlane.Witness;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.Evidence.Tests.Service;

/// <summary>
/// The witness as its own service, beside the real evidence service: evidence has each checkpoint cosigned, bundles
/// carry the cosignature and verification can require it; a rewritten log signed with evidence's own key is
/// refused by the witness, so the fork cannot gather the cosignatures readers require.
/// </summary>
public sealed class WitnessServiceTests(TransparencyLogTests.Fixture fixture) : IClassFixture<TransparencyLogTests.Fixture>, IAsyncLifetime
{
    // One witness (name, key, state) per test: the tests share evidence's database, where cosignatures are kept by witness name.
    private readonly string WitnessName = $"witness.test/{Guid.NewGuid():N}";
    private readonly string _witnessData = Directory.CreateTempSubdirectory("cp-witness-").FullName;
    private ServiceHost<WitnessService> _witness = null!;
    private ServiceHost<EvidenceService> _evidence = null!;

    public async ValueTask InitializeAsync()
    {
        using var anonymous = await fixture.ClientAsync(null);
        var keys = await anonymous.GetFromJsonAsync<EvidenceKeySet>("evidence/keys", EvidenceFormat.Json);
        _witness = new ServiceHost<WitnessService>(new PlaneSettings(fixture.VirtualHost, PlaneSettings.NewRedisPrefix())
            .Service("identity", fixture.Identity.Address)
            .Set("Witness:Name", WitnessName)
            .Set("Witness:DataDirectory", _witnessData)
            .Set("Witness:Logs:0:Origin", TransparencyLogTests.Origin)
            .Set("Witness:Logs:0:PublicKey", Assert.Single(keys!.Keys).PublicKey)
            .Build());
        _evidence = new ServiceHost<EvidenceService>(new PlaneSettings(fixture.VirtualHost, PlaneSettings.NewRedisPrefix())
            .Database("evidence-db", fixture.Database.ConnectionString)
            .Service("identity", fixture.Identity.Address)
            .Set("Evidence:LogOrigin", TransparencyLogTests.Origin)
            .Set("Evidence:Checkpoints:Interval", "00:10:00")
            .Set("Evidence:Witnesses:0:Name", WitnessName)
            .Set("Evidence:Witnesses:0:Url", _witness.BaseAddress.ToString())
            .Build());
    }

    [Fact]
    public async Task Checkpoints_and_bundles_carry_the_witness_cosignature_and_verification_can_require_it()
    {
        var witnessKey = await WitnessKeyAsync();
        using var auditor = _evidence.CreateHttpClient(await fixture.TokenAsync(EvidenceFixture.Auditor));
        var first = await auditor.PostAsync("evidence/checkpoints", null);
        var note = await first.Content.ReadAsStringAsync();
        Assert.True(first.IsSuccessStatusCode, note);
        Assert.True(SignedNote.TryParse(note, out var signed, out var failure), failure);
        Assert.True(Cosignature.Verify(signed!, witnessKey, out _), $"no valid cosignature by {WitnessName} in:\n{note}");

        // The log grows; the next checkpoint is cosigned through a consistency proof from the first.
        using var scenario = EvidenceScenario.Create(workSteps: 1, interleave: false);
        foreach (var e in scenario.Events)
        {
            await fixture.Publisher.PublishAsync(e.Message);
        }

        await fixture.WaitForRecordsAsync(scenario.ProposalId, scenario.Events.Count(e => e.ProposalId is not null));
        var json = await auditor.GetByteArrayAsync($"evidence/proposals/{scenario.ProposalId}/bundle");
        var required = EvidenceBundleVerifier.Verify(json, new BundleVerifyOptions(Witnesses: [witnessKey], RequiredWitnesses: 1));
        Assert.True(required.Ok, $"{required.FailedCheck}: {required.Failure}");
        Assert.Contains(required.Passed, p => p.Contains($"cosigned by {WitnessName}", StringComparison.Ordinal));

        using var stranger = Cosignature.CreateKey();
        var otherWitness = new WitnessKey("witness.test/w2", Cosignature.PublicKeyOf(stranger));
        var twoRequired = EvidenceBundleVerifier.Verify(json, new BundleVerifyOptions(Witnesses: [witnessKey, otherWitness], RequiredWitnesses: 2));
        Assert.Equal(EvidenceBundleVerifier.LogCheck, twoRequired.FailedCheck);
        Assert.Contains("cosigned by 1 of the 2 trusted witnesses, 2 required", twoRequired.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rewritten_log_is_caught_because_the_witness_refuses_to_cosign_it()
    {
        using var auditor = _evidence.CreateHttpClient(await fixture.TokenAsync(EvidenceFixture.Auditor));
        Assert.True((await auditor.PostAsync("evidence/checkpoints", null)).IsSuccessStatusCode);
        using var witness = _witness.CreateHttpClient();
        var held = await witness.PostAsync("add-checkpoint", new StringContent("old 0\n\n" + await auditor.GetStringAsync("evidence/checkpoint")));
        var heldSize = long.Parse((await held.Content.ReadAsStringAsync()).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(heldSize > 0, "the witness holds the size it cosigned");

        // An operator with evidence's key rewrites history: a tree whose first leaf changed, grown by one, signed.
        var records = await RecordHashesAsync(auditor, heldSize);
        records[0] = "sha256:" + new string('0', 64);
        var rewritten = new MerkleTree();
        foreach (var hash in records.Append("sha256:" + new string('1', 64)))
        {
            rewritten.AppendLeafHash(BundleLogVerifier.LeafHash(hash));
        }

        using var evidenceKey = await EvidenceSignerAsync();
        var forged = SignedNote.SignEcdsa(new Checkpoint(TransparencyLogTests.Origin, rewritten.Size, rewritten.RootHash()).Text(), TransparencyLogTests.Origin, evidenceKey).ToString();
        var refused = await witness.PostAsync("add-checkpoint", new StringContent(CheckpointWitness.Request(heldSize, rewritten.ConsistencyProof(heldSize, rewritten.Size), forged)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains("does not extend", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Its state survives a restart: a new witness process on the same data still holds the genuine size.
        await using var restarted = new ServiceHost<WitnessService>(new PlaneSettings(fixture.VirtualHost, PlaneSettings.NewRedisPrefix())
            .Service("identity", fixture.Identity.Address)
            .Set("Witness:Name", WitnessName)
            .Set("Witness:DataDirectory", _witnessData)
            .Set("Witness:Logs:0:Origin", TransparencyLogTests.Origin)
            .Set("Witness:Logs:0:PublicKey", Convert.ToBase64String(evidenceKey.ExportSubjectPublicKeyInfo()))
            .Build());
        using var again = restarted.CreateHttpClient();
        var stale = await again.PostAsync("add-checkpoint", new StringContent("old 0\n\n" + forged));
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Equal(CheckpointWitness.SizeContentType, stale.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"{heldSize}\n", await stale.Content.ReadAsStringAsync());
    }

    public async ValueTask DisposeAsync()
    {
        await _evidence.DisposeAsync();
        await _witness.DisposeAsync();
        Directory.Delete(_witnessData, recursive: true);
    }

    private async Task<WitnessKey> WitnessKeyAsync()
    {
        using var client = _witness.CreateHttpClient();
        Assert.True(WitnessKey.TryParse((await client.GetStringAsync("key")).Trim(), out var key));
        Assert.Equal(WitnessName, key!.Name);
        return key;
    }

    private static async Task<List<string>> RecordHashesAsync(HttpClient auditor, long count)
    {
        var page = await auditor.GetFromJsonAsync<EvidencePage>($"evidence/records?since=0&limit={count}", EvidenceFormat.Json);
        Assert.Equal(count, page!.Records.Count);
        return [.. page.Records.Select(r => r.RecordHash)];
    }

    private async Task<ECDsa> EvidenceSignerAsync()
    {
        var (_, signer) = await fixture.Evidence.Services.GetRequiredService<ControlPlane.Evidence.Signing.EvidenceKeyStore>().GetSignerAsync(CancellationToken.None);
        return signer.Key;
    }
}
