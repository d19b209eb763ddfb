using System.Collections.Concurrent;
using ControlPlane.Contracts;

namespace ControlPlane.Orchestrator.Tests.Infrastructure;

/// <summary>What the simulated fleet does with one piece of work: answer with an outcome after a delay, refuse it, or stay silent.</summary>
public sealed record FleetAnswer(WorkOutcome? Outcome, TimeSpan Delay, bool Refuse = false)
{
    public static readonly FleetAnswer Succeed = new(WorkOutcome.Succeeded, TimeSpan.Zero);
    public static readonly FleetAnswer Fail = new(WorkOutcome.Failed, TimeSpan.Zero);
    public static readonly FleetAnswer Silent = new(null, TimeSpan.Zero);

    public static FleetAnswer SucceedAfter(TimeSpan delay) => new(WorkOutcome.Succeeded, delay);
}

/// <summary>One execution as the simulated runner saw it.</summary>
public sealed record ExecutionSeen(Guid ProposalId, Guid WorkId, string Environment, IReadOnlyList<string> Targets, DateTimeOffset Start, DateTimeOffset End);

/// <summary>
/// Plays fleet and its runners on the bus: consumes WorkRequested and publishes WorkCompleted (or WorkRefused),
/// per proposal as the test says (default: succeed at once), and records executions to check overlap and limits.
/// </summary>
public sealed class FleetSimulator
{
    private readonly TestBus _bus;
    private readonly ConcurrentDictionary<Guid, Func<WorkRequested, FleetAnswer>> _behaviours = new();
    private readonly ConcurrentQueue<ExecutionSeen> _executions = new();
    private readonly ConcurrentDictionary<string, int> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _peak = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public FleetSimulator(TestBus bus)
    {
        _bus = bus;
        bus.OnWorkRequested = HandleAsync;
    }

    public IReadOnlyList<ExecutionSeen> Executions => [.. _executions];

    public void Behave(Guid proposalId, Func<WorkRequested, FleetAnswer> behaviour) => _behaviours[proposalId] = behaviour;

    /// <summary>The most executions the simulated runners had at once in the environment.</summary>
    public int PeakIn(string environment) => _peak.GetValueOrDefault(environment);

    private Task HandleAsync(WorkRequested work, TestBus bus)
    {
        var answer = _behaviours.TryGetValue(work.ProposalId, out var behave) ? behave(work) : FleetAnswer.Succeed;
        if (answer.Outcome is null && !answer.Refuse)
        {
            return Task.CompletedTask;
        }

        var start = DateTimeOffset.UtcNow;
        if (work.Step == WorkStep.Execute)
        {
            lock (_gate)
            {
                var now = _running[work.Environment] = _running.GetValueOrDefault(work.Environment) + 1;
                _peak[work.Environment] = Math.Max(_peak.GetValueOrDefault(work.Environment), now);
            }
        }

        // Answer off the consumer so several runners can be busy at once.
        _ = Task.Run(async () =>
        {
            if (!answer.Refuse)
            {
                // As real runners do: accepted, then started (signed), before the action runs.
                await AcknowledgeAsync(work, WorkAckStage.Accepted);
                await AcknowledgeAsync(work, WorkAckStage.Started);
            }

            await Task.Delay(answer.Delay);
            if (work.Step == WorkStep.Execute)
            {
                lock (_gate)
                {
                    _running[work.Environment]--;
                }

                _executions.Enqueue(new ExecutionSeen(work.ProposalId, work.WorkId, work.Environment, work.Targets, start, DateTimeOffset.UtcNow));
            }

            if (answer.Refuse)
            {
                await _bus.PublishAsync(new WorkRefused(work.ProposalId, work.WorkId, "test-runner", "stale fencing token", DateTimeOffset.UtcNow));
            }
            else
            {
                await _bus.CompleteAsync(work, answer.Outcome!.Value, answer.Outcome == WorkOutcome.Succeeded ? null : "exit code 1");
            }
        });
        return Task.CompletedTask;
    }

    private Task AcknowledgeAsync(WorkRequested work, WorkAckStage stage)
    {
        var ack = new WorkAck(work.WorkId, work.ProposalId, work.Step, "test-runner", "nonce-" + work.WorkId.ToString("N"), stage, DateTimeOffset.UtcNow);
        return _bus.PublishAsync(new WorkAcknowledged(work.ProposalId, work.WorkId, work.Step, "test-runner", stage,
            Dsse.Sign(ack, WorkAck.PayloadType, RunnerKey, SigningKeyIds.Thumbprint(RunnerKey)), DateTimeOffset.UtcNow));
    }

    private static readonly System.Security.Cryptography.ECDsa RunnerKey =
        System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
}
