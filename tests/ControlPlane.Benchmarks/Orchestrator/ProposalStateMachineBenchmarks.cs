using BenchmarkDotNet.Attributes;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Lifecycle;

namespace ControlPlane.Benchmarks.Orchestrator;

/// <summary>
/// Transitions per second of the pure lifecycle: one governed action from submitted to completed (9 transitions
/// per operation, follow-ups included) and a single refused trigger.
/// </summary>
[MemoryDiagnoser]
public class ProposalStateMachineBenchmarks
{
    private static readonly ProposalFacts Facts = new(HasValidations: true, HasVerifications: true, HasRollbackPlan: true);

    private static readonly Trigger[] Path =
    [
        new(TriggerKind.ImpactAssessed, "graph v7"),
        new(TriggerKind.PolicyRequiresApproval, "revenue path"),
        new(TriggerKind.ApprovalCounted, "1 of 2"),
        new(TriggerKind.ApprovalQuorumReached, "2 of 2"),
        new(TriggerKind.ValidationStarted, "validations"),
        new(TriggerKind.ValidationsPassed, "green"),
        new(TriggerKind.LeaseAcquired, "leases"),
        new(TriggerKind.ExecutionSucceeded, "done"),
        new(TriggerKind.VerificationsPassed, "green"),
    ];

    private static readonly Trigger Illegal = new(TriggerKind.LeaseAcquired, "too early");

    [Benchmark(OperationsPerInvoke = 9, Description = "legal transition (full lifecycle / 9)")]
    public ProposalState FullLifecycle()
    {
        var state = ProposalState.Submitted;
        foreach (var trigger in Path)
        {
            state = ProposalStateMachine.Apply(state, trigger, Facts).Applied!.To;
        }

        return state;
    }

    [Benchmark(Description = "refused transition")]
    public string? Refused() => ProposalStateMachine.Apply(ProposalState.Submitted, Illegal, Facts).Refusal;
}
