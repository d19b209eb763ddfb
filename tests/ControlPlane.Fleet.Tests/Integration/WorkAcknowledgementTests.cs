using System.Diagnostics;
using System.Net;
using ControlPlane.Contracts;
using ControlPlane.Fleet.Tests.Support;
using ControlPlane.Testing;
using Npgsql;

namespace ControlPlane.Fleet.Tests.Integration;

/// <summary>A fleet plane whose unacknowledged packages are offered again after 2 s.</summary>
public sealed class QuickAckPlane : FleetPlane
{
    public override TimeSpan AckTimeout => TimeSpan.FromSeconds(2);
}

/// <summary>
/// Runners acknowledge packages (accepted, started); fleet confirms acceptance only of the current offer, offers an
/// unaccepted package again within the ack timeout, closes a silent runner's accepted work at once, and records a
/// result of withdrawn work as superseded.
/// </summary>
public sealed class WorkAcknowledgementTests(QuickAckPlane plane) : IClassFixture<QuickAckPlane>
{
    [Fact]
    public async Task Acknowledgements_of_the_current_package_are_confirmed_recorded_once_and_announced()
    {
        await using var runner = await FakeRunner.StartAsync(plane, "runner-t1", "testing", "ack-kind");
        var (request, issued) = await IssueAsync("ack-kind");
        var package = WorkRequests.Read<WorkPackage>(issued.Envelope);

        using var accepted = await runner.PostAckAsync(package, WorkAckStage.Accepted);
        using var again = await runner.PostAckAsync(package, WorkAckStage.Accepted);
        using var started = await runner.PostAckAsync(package, WorkAckStage.Started);
        await plane.Bus.WaitForAsync<WorkAcknowledged>(a => a.WorkId == request.WorkId && a.Stage == WorkAckStage.Started, "WorkAcknowledged started");
        await Task.Delay(500);

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("already-recorded", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        var acks = plane.Bus.All<WorkAcknowledged>().Where(a => a.WorkId == request.WorkId).ToList();
        Assert.Equal([WorkAckStage.Accepted, WorkAckStage.Started], acks.Select(a => a.Stage));
        Assert.All(acks, a => Assert.Equal(request.ProposalId, a.ProposalId));
        Assert.All(acks, a => Assert.Equal("runner-t1", a.RunnerId));
        // Not re-offered: the runner accepted it in time.
        await Task.Delay(plane.AckTimeout + TimeSpan.FromSeconds(1));
        Assert.Single(plane.Bus.All<WorkPackageIssued>(), i => i.WorkId == request.WorkId);
    }

    [Fact]
    public async Task An_acknowledgement_from_another_runner_or_with_a_forged_signature_is_refused()
    {
        await using var runner = await FakeRunner.StartAsync(plane, "runner-t2", "testing", "ack-forged");
        await using var other = await FakeRunner.StartAsync(plane, "runner-o1", "observe", "ack-forged");
        var (_, issued) = await IssueAsync("ack-forged");
        var package = WorkRequests.Read<WorkPackage>(issued.Envelope);
        var stranger = package with { Audience = "runner-o1" };

        using var fromOther = await other.PostAckAsync(stranger, WorkAckStage.Accepted);
        runner.NewKey(); // signs with a key fleet never registered for runner-t2
        using var forged = await runner.PostAckAsync(package, WorkAckStage.Accepted);

        Assert.Equal(HttpStatusCode.Conflict, fromOther.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
    }

    [Fact]
    public async Task A_package_nobody_accepts_is_offered_again_to_another_runner_within_the_ack_timeout_and_the_old_one_can_no_longer_be_accepted()
    {
        await using var slow = await FakeRunner.StartAsync(plane, "runner-t3", "testing", "reoffer-kind");
        var (request, first) = await IssueAsync("reoffer-kind");
        Assert.Equal("runner-t3", first.RunnerId);
        await using var spare = await FakeRunner.StartAsync(plane, "runner-t4", "testing", "reoffer-kind");
        var clock = Stopwatch.StartNew();

        var second = await plane.Bus.WaitForAsync<WorkPackageIssued>(i => i.WorkId == request.WorkId && i.RunnerId == "runner-t4", "the re-offer to runner-t4",
            TimeSpan.FromSeconds(15));
        var waited = clock.Elapsed;
        using var late = await slow.PostAckAsync(WorkRequests.Read<WorkPackage>(first.Envelope), WorkAckStage.Accepted);
        using var current = await spare.PostAckAsync(WorkRequests.Read<WorkPackage>(second.Envelope), WorkAckStage.Accepted);

        Assert.InRange(waited, TimeSpan.Zero, plane.AckTimeout + TimeSpan.FromSeconds(3));
        Assert.NotEqual(WorkRequests.Read<WorkPackage>(first.Envelope).Nonce, WorkRequests.Read<WorkPackage>(second.Envelope).Nonce);
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal(HttpStatusCode.OK, current.StatusCode);
        Assert.Equal(2, await ColumnAsync<int>(request.WorkId, "offers"));
    }

    [Fact]
    public async Task A_runner_that_goes_silent_after_accepting_has_its_work_closed_as_timed_out_by_heartbeat_not_by_expiry()
    {
        await using var runner = await FakeRunner.StartAsync(plane, "runner-t5", "testing", "silent-kind");
        var (request, issued) = await IssueAsync("silent-kind", TimeSpan.FromMinutes(5));
        using var accepted = await runner.PostAckAsync(WorkRequests.Read<WorkPackage>(issued.Envelope), WorkAckStage.Accepted);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var clock = Stopwatch.StartNew();

        await runner.StopHeartbeatsAsync();
        var completed = await plane.Bus.WaitForAsync<WorkCompleted>(c => c.WorkId == request.WorkId, "WorkCompleted after the runner went silent",
            TimeSpan.FromSeconds(20));

        Assert.Equal(WorkOutcome.TimedOut, completed.Outcome);
        Assert.StartsWith("runner runner-t5 went silent", completed.Reason, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10)); // heartbeat timeout 3 s; the package expires in 5 min
    }

    [Fact]
    public async Task Withdrawn_work_cannot_be_accepted_and_its_late_result_is_recorded_as_superseded()
    {
        await using var runner = await FakeRunner.StartAsync(plane, "runner-t6", "testing", "withdrawn-kind");
        var (request, issued) = await IssueAsync("withdrawn-kind");
        var package = WorkRequests.Read<WorkPackage>(issued.Envelope);

        await plane.Bus.PublishAsync(new WorkWithdrawn(request.ProposalId, request.WorkId, "superseded by a re-offer", DateTimeOffset.UtcNow));
        await Eventually.UntilAsync(async () => await ColumnAsync<string>(request.WorkId, "status") == "superseded", TimeSpan.FromSeconds(15), "the work withdrawn");
        using var ack = await runner.PostAckAsync(package, WorkAckStage.Accepted);
        using var result = await runner.PostResultAsync(request.WorkId, runner.ResultFor(package, WorkOutcome.Succeeded));
        var superseded = await plane.Bus.WaitForAsync<WorkResultSuperseded>(s => s.WorkId == request.WorkId, "WorkResultSuperseded");
        await Task.Delay(500);

        Assert.Equal(HttpStatusCode.Conflict, ack.StatusCode);
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        Assert.Equal(WorkOutcome.Succeeded, superseded.Outcome);
        Assert.NotNull(superseded.SignedResult);
        Assert.DoesNotContain(plane.Bus.All<WorkCompleted>(), c => c.WorkId == request.WorkId);
    }

    [Fact]
    public async Task Work_withdrawn_before_its_request_arrives_is_never_issued()
    {
        await using var runner = await FakeRunner.StartAsync(plane, "runner-t7", "testing", "overtaken-kind");
        var request = WorkRequests.New("testing", "overtaken-kind");

        await plane.Bus.PublishAsync(new WorkWithdrawn(request.ProposalId, request.WorkId, "the proposal was cancelled", DateTimeOffset.UtcNow));
        await Eventually.UntilAsync(async () => await WithdrawnAsync(request.WorkId), TimeSpan.FromSeconds(15), "the withdrawal recorded");
        await plane.Bus.PublishAsync(request);
        await Eventually.UntilAsync(async () => await ColumnAsync<string>(request.WorkId, "status") is not null, TimeSpan.FromSeconds(15), "the request recorded");
        await Task.Delay(1000);

        Assert.Equal("superseded", await ColumnAsync<string>(request.WorkId, "status"));
        Assert.DoesNotContain(plane.Bus.All<WorkPackageIssued>(), i => i.WorkId == request.WorkId);
    }

    private async Task<(WorkRequested Request, WorkPackageIssued Issued)> IssueAsync(string actionKind, TimeSpan? timeout = null)
    {
        var request = WorkRequests.New("testing", actionKind, timeout: timeout ?? TimeSpan.FromMinutes(1));
        await plane.Bus.PublishAsync(request);
        return (request, await plane.Bus.WaitForAsync<WorkPackageIssued>(i => i.WorkId == request.WorkId, $"WorkPackageIssued for {actionKind}"));
    }

    private async Task<T?> ColumnAsync<T>(Guid workId, string column)
    {
        await using var data = NpgsqlDataSource.Create(plane.Database.ConnectionString);
        await using var command = data.CreateCommand($"select {column} from work_items where work_id = $1");
        command.Parameters.Add(new() { Value = workId });
        return await command.ExecuteScalarAsync() is T value ? value : default;
    }

    private async Task<bool> WithdrawnAsync(Guid workId)
    {
        await using var data = NpgsqlDataSource.Create(plane.Database.ConnectionString);
        await using var command = data.CreateCommand("select exists (select 1 from withdrawn_work where work_id = $1)");
        command.Parameters.Add(new() { Value = workId });
        return await command.ExecuteScalarAsync() is true;
    }
}
