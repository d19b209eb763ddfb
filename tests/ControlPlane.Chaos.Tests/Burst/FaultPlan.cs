using System.Diagnostics;
using ControlPlane.Chaos.Tests.Harness;

namespace ControlPlane.Chaos.Tests.Burst;

/// <summary>
/// Every fault the issue names, one after the other: kill -9 of each service replica and runner (restarted on the
/// same port and state), RabbitMQ, PostgreSQL and Redis restarted, Redis brought back from an older snapshot, and
/// links cut through the TCP proxies. CI runs one fault of each kind (<see cref="OneOfEachKind"/>);
/// CONTROLPLANE_CHAOS_FAULTS=all runs every one, or names a subset.
/// </summary>
public sealed class FaultPlan(ChaosPlane plane, ChaosOptions options, TextWriter log)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    /// <summary>Each kind once: a replica of each competing pair, a runner, each server, the older snapshot, a cut link.</summary>
    public static readonly string[] OneOfEachKind =
    [
        "kill -9 orchestrator-a", "cut fleet-b -> rabbitmq", "kill -9 runner-remediation-1", "restart redis", "kill -9 fleet-a",
        "restart rabbitmq", "restart postgres", "redis from an older snapshot",
    ];

    public IReadOnlyList<(string Name, Func<Task> Inject)> All() =>
    [
        ("kill -9 orchestrator-a", () => Kill("orchestrator-a")),
        ("cut fleet-b -> rabbitmq", () => Cut("fleet-b", "rabbitmq")),
        ("kill -9 runner-remediation-1", () => Kill("runner-remediation-1")),
        ("restart redis", () => plane.Redis.RestartAsync()),
        ("kill -9 fleet-a", () => Kill("fleet-a")),
        ("cut orchestrator-b -> postgres", () => Cut("orchestrator-b", "postgres")),
        ("kill -9 identity", () => Kill("identity")),
        ("restart rabbitmq", () => plane.Rabbit.RestartAsync()),
        ("kill -9 system-graph", () => Kill("system-graph")),
        ("cut runner-remediation-1 -> rabbitmq", () => Cut("runner-remediation-1", "rabbitmq")),
        ("kill -9 policy", () => Kill("policy")),
        ("restart postgres", () => plane.Postgres.RestartAsync()),
        ("kill -9 evidence", () => Kill("evidence")),
        ("cut orchestrator-a -> redis", () => Cut("orchestrator-a", "redis")),
        ("kill -9 orchestrator-b", () => Kill("orchestrator-b")),
        ("redis from an older snapshot", () => plane.Redis.RestoreOlderSnapshotAsync()),
        ("kill -9 fleet-b", () => Kill("fleet-b")),
        ("cut evidence -> postgres", () => Cut("evidence", "postgres")),
        ("kill -9 runner-testing-1", () => Kill("runner-testing-1")),
        ("cut fleet-a -> postgres", () => Cut("fleet-a", "postgres")),
    ];

    /// <summary>Injects the chosen faults in turn; each is timed until the plane has that part back.</summary>
    public async Task<IReadOnlyList<FaultTiming>> RunAsync(Stopwatch clock)
    {
        var names = options.Faults ?? OneOfEachKind;
        var chosen = All().Where(f => names.Contains("all", StringComparer.OrdinalIgnoreCase)
            || names.Any(n => f.Name.Contains(n, StringComparison.OrdinalIgnoreCase))).ToList();
        var timings = new List<FaultTiming>();
        foreach (var (name, inject) in chosen)
        {
            var started = clock.Elapsed;
            log.WriteLine($"[{started.TotalSeconds,6:0.0}] fault: {name}");
            string? error = null;
            try
            {
                await inject();
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
            {
                // a part that does not come back is a finding: recorded, and the run goes on
                error = e.Message;
                log.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.0}] fault {name} did not recover: {e.Message}");
            }

            timings.Add(new FaultTiming(name, started.TotalSeconds, (clock.Elapsed - started).TotalSeconds, error));
            await Task.Delay(options.Gap);
        }

        return timings;
    }

    private Task Kill(string process) => plane.KillAndRestartAsync(process, options.Down, StartTimeout);

    private Task Cut(string process, string server) => plane.CutLinkAsync(process, server, options.Down);
}
