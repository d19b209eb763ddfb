using System.Security.Cryptography;
using ControlPlane.Contracts;
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
        await using var runner = plane.StartRunner(RunnerPlane.LinkedRunnerId, state, new Uri($"http://127.0.0.1:{link.Port}/"));
        _ = runner.BaseAddress;
        using (var admin = await plane.ClientForAsync(RunnerPlane.Admin))
        {
            await Eventually.UntilAsync(async () =>
            {
                using var response = await admin.GetAsync($"fleet/runners/{RunnerPlane.LinkedRunnerId}");
                return response.IsSuccessStatusCode;
            }, TimeSpan.FromSeconds(30), "runner-k to register through the link");
        }

        link.Stop(); // fleet unreachable from the runner, as while fleet restarts
        var now = DateTimeOffset.UtcNow;
        var package = new WorkPackage(Guid.NewGuid(), Guid.NewGuid(), "sha256:" + new string('c', 64), WorkStep.Execute, "during-outage", "run-command",
            new Dictionary<string, string> { ["command"] = "marker" }, ["billing"], "staging", new Dictionary<string, long>(),
            now.AddSeconds(-1), now.AddMinutes(5), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), RunnerPlane.LinkedRunnerId, "testing", "fleet");
        await plane.Bus.SendAsync(DeliverWorkPackage.QueueFor(RunnerPlane.LinkedRunnerId), new DeliverWorkPackage(package.WorkId, await plane.SignAsFleetAsync(package)));

        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.DoesNotContain(package.WorkId.ToString(), plane.Markers(state));

        link.Start();
        await Eventually.UntilAsync(() => Task.FromResult(plane.Markers(state).Contains(package.WorkId.ToString())), TimeSpan.FromSeconds(90),
            "the package to run once fleet's keys can be fetched again");
        Assert.Single(plane.Markers(state), m => m == package.WorkId.ToString());
        Assert.DoesNotContain(plane.Bus.All<WorkRefused>(), r => r.Reason.Contains(package.WorkId.ToString(), StringComparison.Ordinal));
    }
}
