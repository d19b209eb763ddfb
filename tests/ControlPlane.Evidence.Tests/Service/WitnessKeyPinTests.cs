using System.Net.Http.Json;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification.Transparency;
using ControlPlane.EvidenceScenarios;
using ControlPlane.Testing;
using ControlPlane.Witness;

namespace ControlPlane.Evidence.Tests.Service;

/// <summary>
/// A witness told only where the log publishes its keys (Witness:Logs:n:KeysUrl, as ./run.sh and the AppHost start
/// it) pins the log's key at the first checkpoint and from then on trusts only the pin.
/// </summary>
public sealed class WitnessKeyPinTests(TransparencyLogTests.Fixture fixture) : IClassFixture<TransparencyLogTests.Fixture>, IAsyncLifetime
{
    private readonly string _witnessName = $"witness.test/{Guid.NewGuid():N}";
    private readonly string _witnessData = Directory.CreateTempSubdirectory("cp-witness-pin-").FullName;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task The_witness_pins_the_log_key_on_first_use_and_keeps_trusting_only_the_pin()
    {
        var ct = TestContext.Current.CancellationToken;
        var keysUrl = new Uri(fixture.Evidence.BaseAddress, "evidence/keys").ToString();
        using var anonymous = await fixture.ClientAsync(null);
        var published = Assert.Single((await anonymous.GetFromJsonAsync<EvidenceKeySet>("evidence/keys", EvidenceFormat.Json, ct))!.Keys);

        await using (var witness = Witness(keysUrl))
        await using (var evidence = EvidenceAskingTo(witness))
        {
            var note = await CheckpointAsync(evidence);
            Assert.True(Cosignature.Verify(note, await KeyAsync(witness), out _), "the first checkpoint was not cosigned by the witness that pinned the key");
        }

        var pin = Assert.Single(Directory.GetFiles(_witnessData, "pin-*.spki"));
        Assert.Equal(published.PublicKey, (await File.ReadAllTextAsync(pin, ct)).Trim());

        // Restarted with a keys URL that answers nothing: the pin alone decides, and the next checkpoint (the log
        // grew, so it is a new one the witness must check) is cosigned.
        await GrowAsync();
        await using (var witness = Witness("http://127.0.0.1:9/evidence/keys"))
        await using (var evidence = EvidenceAskingTo(witness))
        {
            var note = await CheckpointAsync(evidence);
            Assert.True(Cosignature.Verify(note, await KeyAsync(witness), out _), "after a restart the pinned key was not used");
        }

        // A pin that is not the log's key: the witness refuses the log's checkpoints (no cosignature), whatever the URL serves.
        using var other = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        await File.WriteAllTextAsync(pin, Convert.ToBase64String(other.ExportSubjectPublicKeyInfo()), ct);
        await GrowAsync();
        await using (var witness = Witness(keysUrl))
        await using (var evidence = EvidenceAskingTo(witness))
        {
            var note = await CheckpointAsync(evidence);
            Assert.False(Cosignature.Verify(note, await KeyAsync(witness), out _), "a witness cosigned a log whose key is not the one it pinned");
        }
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_witnessData, recursive: true);
        return ValueTask.CompletedTask;
    }

    private ServiceHost<WitnessService> Witness(string keysUrl) =>
        new(new PlaneSettings(fixture.VirtualHost, PlaneSettings.NewRedisPrefix())
            .Service("identity", fixture.Identity.Address)
            .Set("Witness:Name", _witnessName)
            .Set("Witness:DataDirectory", _witnessData)
            .Set("Witness:Logs:0:Origin", TransparencyLogTests.Origin)
            .Set("Witness:Logs:0:KeysUrl", keysUrl)
            .Build());

    private ServiceHost<EvidenceService> EvidenceAskingTo(ServiceHost<WitnessService> witness) =>
        new(new PlaneSettings(fixture.VirtualHost, PlaneSettings.NewRedisPrefix())
            .Database("evidence-db", fixture.Database.ConnectionString)
            .Service("identity", fixture.Identity.Address)
            .Set("Evidence:LogOrigin", TransparencyLogTests.Origin)
            .Set("Evidence:Checkpoints:Interval", "00:10:00")
            .Set("Evidence:Witnesses:0:Name", _witnessName)
            .Set("Evidence:Witnesses:0:Url", witness.BaseAddress.ToString())
            .Build());

    private async Task GrowAsync()
    {
        using var scenario = EvidenceScenario.Create(workSteps: 1, interleave: false);
        foreach (var e in scenario.Events)
        {
            await fixture.Publisher.PublishAsync(e.Message);
        }

        await fixture.WaitForRecordsAsync(scenario.ProposalId, scenario.Events.Count(e => e.ProposalId is not null));
    }

    private async Task<SignedNote> CheckpointAsync(ServiceHost<EvidenceService> evidence)
    {
        using var auditor = evidence.CreateHttpClient(await fixture.TokenAsync(EvidenceFixture.Auditor));
        var response = await auditor.PostAsync("evidence/checkpoints", null, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, text);
        Assert.True(SignedNote.TryParse(text, out var note, out var failure), failure);
        return note!;
    }

    private static async Task<WitnessKey> KeyAsync(ServiceHost<WitnessService> witness)
    {
        using var client = witness.CreateHttpClient();
        Assert.True(WitnessKey.TryParse((await client.GetStringAsync("key")).Trim(), out var key));
        return key!;
    }
}
