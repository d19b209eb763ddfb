using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using ControlPlane.Contracts;

namespace ControlPlane.Fleet.Tests.Support;

/// <summary>The test playing a runner over fleet's real HTTP API: its own P-256 key, its own token, heartbeats.</summary>
public sealed class FakeRunner : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _heartbeats = Task.CompletedTask;

    private FakeRunner(string id, string fleet, IReadOnlyList<string> capabilities, HttpClient http)
    {
        Id = id;
        Fleet = fleet;
        Capabilities = capabilities;
        Http = http;
    }

    public string Id { get; }

    public string Fleet { get; }

    public IReadOnlyList<string> Capabilities { get; }

    public HttpClient Http { get; }

    public ECDsa Key { get; private set; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public string KeyId => SigningKeyIds.Thumbprint(Key);

    public RunnerRegistration Registration => new(Id, Fleet, Capabilities, SigningKeyIds.ExportPublicKey(Key), KeyId);

    /// <summary>Registers (asserting 201 or 200) and heartbeats every 500 ms until stopped.</summary>
    public static async Task<FakeRunner> StartAsync(FleetPlane plane, string id, string fleet, params string[] capabilities)
    {
        var runner = new FakeRunner(id, fleet, capabilities, await plane.ClientForAsync(id));
        using var response = await runner.RegisterAsync();
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"registration of {id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        runner._heartbeats = runner.HeartbeatLoopAsync();
        return runner;
    }

    public Task<HttpResponseMessage> RegisterAsync(RunnerRegistration? registration = null) =>
        Http.PostAsJsonAsync("fleet/runners", registration ?? Registration, ContractJson.Options);

    /// <summary>A new key; the next registration rotates it.</summary>
    public void NewKey()
    {
        Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    }

    public Task<HttpResponseMessage> HeartbeatAsync() => Http.PostAsync($"fleet/runners/{Id}/heartbeat", null);

    public async Task StopHeartbeatsAsync()
    {
        await _stop.CancelAsync();
        await _heartbeats;
    }

    public WorkResult ResultFor(WorkPackage package, WorkOutcome outcome, string? reason = null) =>
        new(package.WorkId, package.ProposalId, package.Step, Id, outcome, outcome == WorkOutcome.Succeeded ? 0 : 1, TimeSpan.FromMilliseconds(420),
            CanonicalJson.HashBytes("ok\n"u8), "ok\n", reason, DateTimeOffset.UtcNow);

    public Task<HttpResponseMessage> PostResultAsync(Guid workId, WorkResult result, ECDsa? signWith = null) =>
        Http.PostAsJsonAsync($"fleet/work/{workId}/result", Dsse.Sign(result, WorkResult.PayloadType, signWith ?? Key, signWith is null ? KeyId : SigningKeyIds.Thumbprint(signWith)), ContractJson.Options);

    /// <summary>Signs and posts an acknowledgement of the package, as the runner does before it runs (Accepted) and as it starts (Started).</summary>
    public Task<HttpResponseMessage> PostAckAsync(WorkPackage package, WorkAckStage stage)
    {
        ArgumentNullException.ThrowIfNull(package);
        var ack = new WorkAck(package.WorkId, package.ProposalId, package.Step, Id, package.Nonce, stage, DateTimeOffset.UtcNow);
        return Http.PostAsJsonAsync($"fleet/work/{package.WorkId}/ack", Dsse.Sign(ack, WorkAck.PayloadType, Key, KeyId), ContractJson.Options);
    }

    public Task<HttpResponseMessage> PostRefusalAsync(Guid workId, string reason, Guid proposalId = default)
    {
        var refusal = new WorkResult(workId, proposalId, WorkStep.Validate, Id, WorkOutcome.Refused, null, TimeSpan.Zero, CanonicalJson.HashBytes([]), null, reason, DateTimeOffset.UtcNow);
        return Http.PostAsJsonAsync($"fleet/work/{workId}/refusal", new WorkRefusal(reason, Dsse.Sign(refusal, WorkResult.PayloadType, Key, KeyId)), ContractJson.Options);
    }

    private async Task HeartbeatLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(500, _stop.Token);
                using var response = await Http.PostAsync($"fleet/runners/{Id}/heartbeat", null, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (HttpRequestException)
            {
                // fleet is going away at the end of the test
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopHeartbeatsAsync();
        Http.Dispose();
        Key.Dispose();
        _stop.Dispose();
    }
}
