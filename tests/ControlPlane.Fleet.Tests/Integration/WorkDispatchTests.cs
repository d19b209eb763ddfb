using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Fleet.Tests.Support;
using ControlPlane.Testing;
using Npgsql;

namespace ControlPlane.Fleet.Tests.Integration;

/// <summary>
/// The test plays orchestrator (publishes WorkRequested on the real bus) and the runners (over fleet's HTTP API),
/// and watches what fleet publishes and what lands in the runners' queues.
/// </summary>
public sealed class WorkDispatchTests(FleetPlane plane) : IClassFixture<FleetPlane>
{
    [Fact]
    public async Task A_work_request_issues_exactly_one_signed_package_to_the_runners_queue()
    {
        await using var runner = await FakeRunner.StartAsync(plane, "runner-t1", "testing", "dispatch-one");
        var request = WorkRequests.New("testing", "dispatch-one", new Dictionary<string, string> { ["command"] = "unit-tests" },
            TimeSpan.FromSeconds(30), new Dictionary<string, long> { ["billing"] = 7 });

        await plane.Bus.PublishAsync(request);
        var issued = await plane.Bus.WaitForAsync<WorkPackageIssued>(i => i.WorkId == request.WorkId, "WorkPackageIssued");
        await plane.Bus.PublishAsync(request); // the same request again (a new message, the same work id)
        await QueuedDeliveriesAsync("runner-t1", request.WorkId, expected: 1);
        await Task.Delay(1000);
        var queued = await QueuedDeliveriesAsync("runner-t1", request.WorkId, expected: 1);

        Assert.Single(plane.Bus.All<WorkPackageIssued>(), i => i.WorkId == request.WorkId);
        Assert.Single(queued);
        Assert.Equal("runner-t1", issued.RunnerId);
        Assert.Equal(request.ProposalId, issued.ProposalId);
        Assert.Equal(issued.Envelope, queued.Single().Envelope, EnvelopeComparer.Instance);

        var keys = (await plane.FleetKeysAsync()).Keys.ToDictionary(k => k.KeyId, k => SigningKeyIds.ImportPublicKey(k.PublicKey, out _));
        var payload = Dsse.Verify(queued.Single().Envelope, WorkPackage.PayloadType, id => keys.GetValueOrDefault(id), out var failure);
        Assert.True(payload is not null, failure);
        var package = JsonSerializer.Deserialize<WorkPackage>(payload, ContractJson.Options)!;
        Assert.Equal(request.WorkId, package.WorkId);
        Assert.Equal("runner-t1", package.Audience);
        Assert.Equal("fleet", package.Issuer);
        Assert.Equal("testing", package.Fleet);
        Assert.Equal(request.ContentHash, package.ContentHash);
        Assert.Equal(7, package.FencingTokens["billing"]);
        Assert.Equal("unit-tests", package.Parameters["command"]);
        Assert.True(package.Nonce.Length >= 32);
        Assert.InRange(package.ExpiresAt - package.NotBefore, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(32));
    }

    [Fact]
    public async Task Work_goes_to_the_least_busy_capable_runner()
    {
        await using var first = await FakeRunner.StartAsync(plane, "runner-t2", "testing", "spread-kind");
        await using var second = await FakeRunner.StartAsync(plane, "runner-t3", "testing", "spread-kind");
        var one = WorkRequests.New("testing", "spread-kind");
        var two = WorkRequests.New("testing", "spread-kind");

        await plane.Bus.PublishAsync(one);
        var a = await plane.Bus.WaitForAsync<WorkPackageIssued>(i => i.WorkId == one.WorkId, "the first package");
        await plane.Bus.PublishAsync(two);
        var b = await plane.Bus.WaitForAsync<WorkPackageIssued>(i => i.WorkId == two.WorkId, "the second package");

        Assert.NotEqual(a.RunnerId, b.RunnerId);
    }

    [Fact]
    public async Task Without_a_live_capable_runner_the_work_fails_after_its_timeout_with_the_reason()
    {
        var request = WorkRequests.New("observe", "never-offered", timeout: TimeSpan.FromSeconds(1));
        var sent = DateTimeOffset.UtcNow;

        await plane.Bus.PublishAsync(request);
        var completed = await plane.Bus.WaitForAsync<WorkCompleted>(c => c.WorkId == request.WorkId, "WorkCompleted after the timeout");

        Assert.Equal(WorkOutcome.Failed, completed.Outcome);
        Assert.Equal("no live runner in fleet observe can run never-offered", completed.Reason);
        Assert.Null(completed.SignedResult);
        Assert.Equal(request.ProposalId, completed.ProposalId);
        Assert.True(completed.At - sent >= TimeSpan.FromSeconds(0.9), $"failed after {(completed.At - sent).TotalMilliseconds} ms, before the timeout");
        Assert.DoesNotContain(plane.Bus.All<WorkPackageIssued>(), i => i.WorkId == request.WorkId);
    }

    [Fact]
    public async Task Pending_work_is_placed_as_soon_as_a_capable_runner_registers()
    {
        var request = WorkRequests.New("observe", "late-kind", timeout: TimeSpan.FromSeconds(30));
        await plane.Bus.PublishAsync(request);
        await Task.Delay(1500);
        Assert.DoesNotContain(plane.Bus.All<WorkPackageIssued>(), i => i.WorkId == request.WorkId);

        await using var runner = await FakeRunner.StartAsync(plane, "runner-o2", "observe", "late-kind");
        var issued = await plane.Bus.WaitForAsync<WorkPackageIssued>(i => i.WorkId == request.WorkId, "the pending work to be placed", TimeSpan.FromSeconds(10));

        Assert.Equal("runner-o2", issued.RunnerId);
    }

    [Fact]
    public async Task A_signed_result_completes_the_work_once_with_the_envelope()
    {
        await using var runner = await FakeRunner.StartAsync(plane, "runner-t4", "testing", "result-kind");
        var (request, issued) = await IssueAsync("result-kind");
        var package = WorkRequests.Read<WorkPackage>(issued.Envelope);
        var result = runner.ResultFor(package, WorkOutcome.Succeeded);

        using var first = await runner.PostResultAsync(request.WorkId, result);
        using var repeat = await runner.PostResultAsync(request.WorkId, result);
        var completed = await plane.Bus.WaitForAsync<WorkCompleted>(c => c.WorkId == request.WorkId, "WorkCompleted");
        await Task.Delay(1000);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        Assert.Equal("already-recorded", (await repeat.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Single(plane.Bus.All<WorkCompleted>(), c => c.WorkId == request.WorkId);
        Assert.Equal(WorkOutcome.Succeeded, completed.Outcome);
        Assert.Equal("runner-t4", completed.RunnerId);
        using var runnerKey = SigningKeyIds.ImportPublicKey(runner.Registration.PublicKey, out _);
        var signed = Dsse.Verify(completed.SignedResult!, WorkResult.PayloadType, id => id == runner.KeyId ? runnerKey : null, out var failure);
        Assert.True(signed is not null, failure);
    }

    [Fact]
    public async Task A_result_signed_by_the_wrong_key_or_sent_by_another_runner_is_refused_and_nothing_is_published()
    {
        await using var audience = await FakeRunner.StartAsync(plane, "runner-t5", "testing", "forgery-kind");
        var (request, issued) = await IssueAsync("forgery-kind");
        await using var other = await FakeRunner.StartAsync(plane, "runner-t6", "testing", "other-kind");
        var package = WorkRequests.Read<WorkPackage>(issued.Envelope);
        using var stranger = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);

        using var wrongKey = await audience.PostResultAsync(request.WorkId, audience.ResultFor(package, WorkOutcome.Succeeded), signWith: stranger);
        using var wrongRunner = await other.PostResultAsync(request.WorkId, other.ResultFor(package, WorkOutcome.Succeeded));
        using var tampered = await PostTamperedAsync(audience, audience.ResultFor(package, WorkOutcome.Succeeded));
        await Task.Delay(1500);

        Assert.Equal(HttpStatusCode.Forbidden, wrongKey.StatusCode);
        Assert.Contains("does not verify against runner runner-t5's registered key", await wrongKey.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, wrongRunner.StatusCode);
        Assert.Contains("was not issued to runner runner-t6", await wrongRunner.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, tampered.StatusCode);
        Assert.DoesNotContain(plane.Bus.All<WorkCompleted>(), c => c.WorkId == request.WorkId);
        Assert.Equal("issued", await WorkStatusAsync(request.WorkId));
        Assert.Equal(0L, await OutboxCountAsync("ControlPlane.Contracts.WorkCompleted", request.WorkId));
    }

    [Fact]
    public async Task A_package_without_a_result_times_out_and_a_late_result_is_recorded_as_superseded_not_as_a_second_outcome()
    {
        await using var runner = await FakeRunner.StartAsync(plane, "runner-t7", "testing", "slow-kind");
        var (request, issued) = await IssueAsync("slow-kind", TimeSpan.FromSeconds(1));

        var completed = await plane.Bus.WaitForAsync<WorkCompleted>(c => c.WorkId == request.WorkId, "WorkCompleted TimedOut");
        using var late = await runner.PostResultAsync(request.WorkId, runner.ResultFor(WorkRequests.Read<WorkPackage>(issued.Envelope), WorkOutcome.Succeeded));
        var superseded = await plane.Bus.WaitForAsync<WorkResultSuperseded>(s => s.WorkId == request.WorkId, "the late result recorded as superseded");

        Assert.Equal(WorkOutcome.TimedOut, completed.Outcome);
        Assert.Equal("runner-t7", completed.RunnerId);
        Assert.Null(completed.SignedResult);
        Assert.StartsWith("runner runner-t7 sent no result before the package expired", completed.Reason, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, late.StatusCode);
        Assert.Equal(WorkOutcome.Succeeded, superseded.Outcome);
        Assert.Equal($"work {request.WorkId} was timed-out before this result arrived", superseded.Reason);
        await Task.Delay(500);
        Assert.Single(plane.Bus.All<WorkCompleted>(), c => c.WorkId == request.WorkId);
        Assert.Equal("timed-out", await WorkStatusAsync(request.WorkId));
    }

    [Fact]
    public async Task A_refusal_of_outstanding_work_is_recorded_once_with_its_ids_and_any_other_refusal_without_them()
    {
        await using var runner = await FakeRunner.StartAsync(plane, "runner-t8", "testing", "refusal-kind");
        var (request, _) = await IssueAsync("refusal-kind");
        var unknownWork = Guid.NewGuid();

        using var refused = await runner.PostRefusalAsync(request.WorkId, "stale fencing token for target billing: 3 is older than 7 already seen");
        using var again = await runner.PostRefusalAsync(request.WorkId, "stale fencing token for target billing: 3 is older than 7 already seen");
        using var forged = await runner.PostRefusalAsync(unknownWork, "signature check failed: signature names unknown key 'x'");
        var matched = await plane.Bus.WaitForAsync<WorkRefused>(r => r.WorkId == request.WorkId, "the matched WorkRefused");
        var unmatched = await plane.Bus.WaitForAsync<WorkRefused>(r => r.Reason.Contains(unknownWork.ToString(), StringComparison.Ordinal), "the unmatched WorkRefused");

        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.True((await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("matched").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.OK, forged.StatusCode);
        Assert.Equal(request.ProposalId, matched.ProposalId);
        Assert.Equal("stale fencing token for target billing: 3 is older than 7 already seen", matched.Reason);
        Assert.Null(unmatched.ProposalId);
        Assert.Null(unmatched.WorkId);
        Assert.StartsWith("signature check failed: signature names unknown key 'x'", unmatched.Reason, StringComparison.Ordinal);
        await Task.Delay(500);
        Assert.Single(plane.Bus.All<WorkRefused>(), r => r.WorkId == request.WorkId);
        Assert.Equal("refused", await WorkStatusAsync(request.WorkId));
    }

    [Fact]
    public async Task A_request_for_an_unknown_fleet_fails_at_once_with_the_reason()
    {
        var request = WorkRequests.New("night-shift", "run-command");

        await plane.Bus.PublishAsync(request);
        var completed = await plane.Bus.WaitForAsync<WorkCompleted>(c => c.WorkId == request.WorkId, "WorkCompleted Failed");

        Assert.Equal(WorkOutcome.Failed, completed.Outcome);
        Assert.Equal("invalid work request: unknown fleet 'night-shift'", completed.Reason);
    }

    /// <summary>Publishes a request for fleet testing as orchestrator would and waits for its package.</summary>
    private async Task<(WorkRequested Request, WorkPackageIssued Issued)> IssueAsync(string actionKind, TimeSpan? timeout = null)
    {
        var request = WorkRequests.New("testing", actionKind, timeout: timeout);
        await plane.Bus.PublishAsync(request);
        return (request, await plane.Bus.WaitForAsync<WorkPackageIssued>(i => i.WorkId == request.WorkId, $"WorkPackageIssued for {actionKind}"));
    }

    private async Task<List<DeliverWorkPackage>> QueuedDeliveriesAsync(string runnerId, Guid workId, int expected)
    {
        var queue = DeliverWorkPackage.QueueFor(runnerId);
        var messages = await Eventually.UntilAsync(() => plane.VirtualHost.PeekAsync(queue), m => m.Count >= expected, TimeSpan.FromSeconds(15), $"a delivery in {queue}");
        return messages
            .Select(m => JsonDocument.Parse(m.GetProperty("payload").GetString()!).RootElement.GetProperty("message"))
            .Select(m => m.Deserialize<DeliverWorkPackage>(ContractJson.Options)!)
            .Where(d => d.WorkId == workId)
            .ToList();
    }

    private static Task<HttpResponseMessage> PostTamperedAsync(FakeRunner runner, WorkResult result)
    {
        var envelope = Dsse.Sign(result, WorkResult.PayloadType, runner.Key, runner.KeyId);
        var forged = envelope with { Payload = Convert.ToBase64String(CanonicalJson.Serialize(result with { Outcome = WorkOutcome.Failed })) };
        return runner.Http.PostAsJsonAsync($"fleet/work/{result.WorkId}/result", forged, ContractJson.Options);
    }

    private async Task<string?> WorkStatusAsync(Guid workId)
    {
        await using var data = NpgsqlDataSource.Create(plane.Database.ConnectionString);
        await using var command = data.CreateCommand("select status from work_items where work_id = $1");
        command.Parameters.Add(new() { Value = workId });
        return await command.ExecuteScalarAsync() as string;
    }

    private async Task<long> OutboxCountAsync(string type, Guid workId)
    {
        await using var data = NpgsqlDataSource.Create(plane.Database.ConnectionString);
        await using var command = data.CreateCommand("select count(*) from outbox_messages where message_type = $1 and body->>'workId' = $2");
        command.Parameters.Add(new() { Value = type });
        command.Parameters.Add(new() { Value = workId.ToString() });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private sealed class EnvelopeComparer : IEqualityComparer<DsseEnvelope>
    {
        public static readonly EnvelopeComparer Instance = new();

        public bool Equals(DsseEnvelope? x, DsseEnvelope? y) =>
            x is not null && y is not null && x.PayloadType == y.PayloadType && x.Payload == y.Payload && x.Signatures.SequenceEqual(y.Signatures);

        public int GetHashCode(DsseEnvelope obj) => obj.Payload.GetHashCode(StringComparison.Ordinal);
    }
}
