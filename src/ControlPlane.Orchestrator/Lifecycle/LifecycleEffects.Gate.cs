using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Proposals;

namespace ControlPlane.Orchestrator.Lifecycle;

/// <summary>The gate over validations and verifications: judge the work so far, retry, open or close, and record the verdict.</summary>
public sealed partial class LifecycleEffects
{
    /// <summary>
    /// After a check's result (or its spent timeout): reads every attempt of the step and lets <see cref="CheckGate"/>
    /// decide. Closed → the verdict is recorded and the step's failure trigger fires; a failed step with retries left →
    /// a recorded retry (history, state-changed event and a new work item); open → the verdict is recorded and the
    /// step's pass trigger fires; otherwise the gate holds.
    /// </summary>
    public async Task ConcludeChecksAsync(LifecycleScope scope, ProposalRecord proposal, WorkStep step, string lastResult, string actor)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(proposal);
        var evaluation = await EvaluateAsync(scope, proposal, step);
        switch (evaluation.State)
        {
            case GateState.Closed:
                await RecordVerdictAsync(scope, proposal, step, evaluation, lastResult);
                await scope.ApplyAsync(proposal, new Trigger(step == WorkStep.Validate ? TriggerKind.ValidationFailed : TriggerKind.VerificationFailed,
                    lastResult), actor);
                break;
            case GateState.Open:
                await RecordVerdictAsync(scope, proposal, step, evaluation, lastResult);
                await scope.ApplyAsync(proposal, new Trigger(step == WorkStep.Validate ? TriggerKind.ValidationsPassed : TriggerKind.VerificationsPassed,
                    $"{lastResult}; gate open: {CheckGate.Summary(evaluation)}"), actor);
                break;
            case GateState.Holding when evaluation.RetryDue.Count > 0:
                var retries = string.Join(", ", evaluation.RetryDue.Select(r =>
                {
                    var verdict = evaluation.Suites.First(s => s.Name == r.Name);
                    return $"'{r.Name}' (retry {verdict.Attempts} of {verdict.Retries})";
                }));
                await scope.ApplyAsync(proposal, new Trigger(TriggerKind.CheckRetried, $"{lastResult}; running again: {retries}"), actor);
                break;
        }
    }

    /// <summary>The RetryChecks effect: one new attempt of every step of the current gate that failed with retries left.</summary>
    private async Task RetryChecksAsync(LifecycleScope scope, ProposalRecord proposal, WorkStep step)
    {
        var evaluation = await EvaluateAsync(scope, proposal, step);
        foreach (var requirement in evaluation.RetryDue)
        {
            await RequestAsync(scope, proposal, step, requirement.Name, catalog.Check(requirement, step), Empty, 1);
        }
    }

    private static async Task<GateEvaluation> EvaluateAsync(LifecycleScope scope, ProposalRecord proposal, WorkStep step)
    {
        IReadOnlyList<WorkItem> items;
        await using (var command = await scope.Work.CommandAsync(string.Empty))
        {
            items = await WorkStore.ForProposalAsync(command, proposal.Id, scope.CancellationToken);
        }

        return CheckGate.Evaluate(Steps(proposal, step), step, items);
    }

    public static IReadOnlyList<StepRequirement>? Steps(ProposalRecord proposal, WorkStep step)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        return step == WorkStep.Validate ? proposal.Decision?.Validations : proposal.Decision?.Verifications;
    }

    private static Task RecordVerdictAsync(LifecycleScope scope, ProposalRecord proposal, WorkStep step, GateEvaluation evaluation, string reason) =>
        scope.Work.EnqueueAsync(new ValidationVerdict(proposal.Id, step, evaluation.State == GateState.Open, CheckGate.PlanHash(proposal.Decision),
            evaluation.Suites, reason, scope.Now), scope.CancellationToken);
}
