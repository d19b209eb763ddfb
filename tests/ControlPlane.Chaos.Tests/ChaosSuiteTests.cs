using System.Diagnostics;
using System.Net.Http.Json;
using ControlPlane.Chaos.Tests.Burst;
using ControlPlane.Chaos.Tests.Harness;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;

namespace ControlPlane.Chaos.Tests;

/// <summary>
/// Issue 9's proof under a burst: proposals keep coming while every part of the plane is killed, restarted or cut
/// off in turn, and afterwards nothing is lost, nothing stuck, nothing executed twice (counted on the runners), nothing
/// failed for a passing outage, and the evidence chain verifies. CI-sized by default; see <see cref="ChaosOptions"/>.
/// </summary>
public sealed class ChaosSuiteTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_burst_under_kills_restarts_and_cut_links_loses_nothing_runs_nothing_twice_and_fails_nothing_for_a_passing_outage()
    {
        var options = ChaosOptions.FromEnvironment();
        var log = new TestLog(output);
        var logs = Path.Combine(Environment.GetEnvironmentVariable("CONTROLPLANE_TEST_RESULTS") is { Length: > 0 } results
            ? results
            : Path.Combine(Testing.RepositoryRoot.Path, ".state", "test-results", "ControlPlane.Chaos.Tests"), $"chaos-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        log.WriteLine($"chaos run: {options}; process logs in {logs}");

        var clock = Stopwatch.StartNew();
        await using var plane = await ChaosPlane.StartAsync(logs, TimeSpan.FromMinutes(4));
        log.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.0}] plane up: {string.Join(", ", plane.ProcessNames)}; private RabbitMQ :{plane.Rabbit.Port}, PostgreSQL :{plane.Postgres.Port}, Redis :{plane.Redis.Port}");
        using var client = new PlaneClient(plane.Identity, new HttpClient { Timeout = TimeSpan.FromSeconds(30) });

        await plane.Redis.KeepSnapshotAsync(); // the "older snapshot" Redis comes back from later
        var burstClock = Stopwatch.StartNew();
        var burst = new ProposalBurst(client, plane.Orchestrator, options, log);
        var submissions = burst.SubmitAllAsync(burstClock);
        var faults = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5)); // a few proposals in flight before the first fault
            return await new FaultPlan(plane, options, log).RunAsync(burstClock);
        });

        TimeSpan? calmSince = null;
        await burst.FollowAsync(allEnded =>
        {
            if (!submissions.IsCompleted || !faults.IsCompleted)
            {
                return false;
            }

            calmSince ??= burstClock.Elapsed;
            return allEnded || burstClock.Elapsed - calmSince > options.Drain;
        });
        await submissions;
        var timings = await faults;
        log.WriteLine($"[{burstClock.Elapsed.TotalSeconds,6:0.0}] followed to the end ({(burstClock.Elapsed - calmSince!.Value).TotalSeconds:0} s after the last fault and submission)");

        var (verified, records) = await EvidenceAsync(client, plane);
        var report = ChaosReport.From(burst.Outcomes(), RunnerExecutions.Read(plane.RunnerStates), verified, records, timings);
        log.WriteLine(report.Print());
        await File.WriteAllTextAsync(Path.Combine(logs, "chaos-report.txt"), report.Print());

        Assert.True(report.Offered == options.Proposals && report.Executions > 0, "the burst ran nothing: " + report.Print());
        Assert.All(timings, t => Assert.Null(t.Error));
        Assert.Empty(report.MissedGoals());
    }

    /// <summary>Once every record is in: the chain as evidence verifies it now (the cached status is at most 1 s old).</summary>
    private static async Task<(bool? Verified, long Records)> EvidenceAsync(PlaneClient client, ChaosPlane plane)
    {
        ChainStatus? last = null;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            using var response = await client.SendAsync(PlaneClient.Auditor, "evidence",
                () => new HttpRequestMessage(HttpMethod.Get, new Uri(plane.Evidence, "evidence/verification")), TimeSpan.FromSeconds(30));
            if (response.IsSuccessStatusCode)
            {
                var status = (await response.Content.ReadFromJsonAsync<ChainStatus>(ContractJson.Options))!;
                if (last is not null && last.Records == status.Records)
                {
                    return (status.Verified, status.Records); // no record arrived in between: the chain is settled
                }

                last = status;
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        return (last?.Verified, last?.Records ?? 0);
    }

    /// <summary>Progress to the test output and the console (a by-hand run shows it live).</summary>
    private sealed class TestLog(ITestOutputHelper output) : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void WriteLine(string? value)
        {
            output.WriteLine(value ?? "");
            Console.WriteLine(value);
        }
    }
}
