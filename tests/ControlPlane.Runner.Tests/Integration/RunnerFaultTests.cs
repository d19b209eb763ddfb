using System.Net;
using System.Net.Sockets;
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
        // Wait for THIS runner's registration (its health turns 200 only then), not just for fleet to know runner-k: the
        // other test of this class starts a runner-k too, and fleet's record of it says nothing about this one.
        using (var health = runner.CreateHttpClient())
        {
            await Eventually.UntilAsync(async () =>
            {
                using var response = await health.GetAsync("health");
                return response.IsSuccessStatusCode;
            }, TimeSpan.FromSeconds(60), "this runner-k to register through the link");
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

    [Fact]
    public async Task A_fleet_that_accepts_connections_but_does_not_answer_at_start_is_waited_for_and_the_runner_registers_once_it_answers()
    {
        // Fleet (or identity) overloaded at start: connections are accepted and never answered, so the runner's calls end
        // in the HTTP pipeline's attempt timeout (Polly's TimeoutRejectedException) rather than a refused connection.
        // Found by the chaos suite: that exception escaped the registration loop and stopped the runner's host.
        await using var link = new TcpProxy(plane.Fleet.BaseAddress.Host, plane.Fleet.BaseAddress.Port);
        var silent = new TcpListener(IPAddress.Loopback, link.Port);
        silent.Start();
        var held = new List<TcpClient>();
        var holding = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    held.Add(await silent.AcceptTcpClientAsync());
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // stopped below
            }
        });
        var state = Path.Combine(plane.Root, "state-silent-" + RunnerPlane.LinkedRunnerId);
        await using var runner = plane.StartRunner(RunnerPlane.LinkedRunnerId, state, new Uri($"http://127.0.0.1:{link.Port}/"), "observe");
        _ = runner.BaseAddress;
        await Task.Delay(TimeSpan.FromSeconds(13)); // past the 10 s attempt timeout of the first registration

        silent.Stop();
        await holding;
        held.ForEach(c => c.Dispose());
        link.Start();
        using var health = runner.CreateHttpClient();
        await Eventually.UntilAsync(async () =>
        {
            using var response = await health.GetAsync("health"); // healthy only once this runner's registration went through
            return response.IsSuccessStatusCode;
        }, TimeSpan.FromSeconds(60), "runner-k to register once fleet answers");
    }
}
