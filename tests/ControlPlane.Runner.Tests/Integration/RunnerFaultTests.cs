using ControlPlane.Contracts;
using ControlPlane.Fleet.Tests.Support;
using ControlPlane.Testing;

namespace ControlPlane.Runner.Tests.Integration;

/// <summary>A passing outage is not a verdict: the runner waits for fleet instead of refusing fleet's package.</summary>
public sealed class RunnerFaultTests(RunnerPlane plane) : IClassFixture<RunnerPlane>
{
    [Fact]
    public async Task A_package_that_arrives_while_fleets_keys_cannot_be_fetched_runs_once_fleet_is_back_and_is_not_refused()
    {
        await using var link = new TcpProxy(plane.Fleet.BaseAddress.Host, plane.Fleet.BaseAddress.Port);
        link.Start();
        var state = Path.Combine(plane.Root, "state-" + RunnerPlane.LinkedRunnerId);
        await using var runner = plane.StartRunner(RunnerPlane.LinkedRunnerId, state, new Uri($"http://127.0.0.1:{link.Port}/"), "observe");
        _ = runner.BaseAddress;
        using (var admin = await plane.ClientForAsync(RunnerPlane.Admin))
        {
            await Eventually.UntilAsync(async () =>
            {
                using var response = await admin.GetAsync($"fleet/runners/{RunnerPlane.LinkedRunnerId}");
                return response.IsSuccessStatusCode;
            }, TimeSpan.FromSeconds(30), "runner-k to register through the link");
        }

        // Fleet unreachable from the runner (as while fleet restarts) just as fleet sends it a package: the runner has
        // never fetched fleet's keys, so it cannot verify the package yet.
        link.Stop();
        var request = WorkRequests.New("observe", "run-command", new Dictionary<string, string> { ["command"] = "marker" });
        await plane.Bus.PublishAsync(request);
        await plane.Bus.WaitForAsync<WorkPackageIssued>(i => i.WorkId == request.WorkId && i.RunnerId == RunnerPlane.LinkedRunnerId, "the package issued to runner-k",
            TimeSpan.FromSeconds(30));

        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.DoesNotContain(request.WorkId.ToString(), plane.Markers(state));

        link.Start();
        var completed = await plane.Bus.WaitForAsync<WorkCompleted>(c => c.WorkId == request.WorkId, "the result once fleet is reachable again",
            TimeSpan.FromSeconds(60));
        Assert.Equal(WorkOutcome.Succeeded, completed.Outcome);
        Assert.Single(plane.Markers(state), m => m == request.WorkId.ToString());
        Assert.DoesNotContain(plane.Bus.All<WorkRefused>(), r => r.WorkId == request.WorkId || r.Reason.Contains(request.WorkId.ToString(), StringComparison.Ordinal));
        var acks = plane.Bus.All<WorkAcknowledged>().Where(a => a.WorkId == request.WorkId).Select(a => a.Stage).ToList();
        Assert.Equal([WorkAckStage.Accepted, WorkAckStage.Started], acks);
    }
}
