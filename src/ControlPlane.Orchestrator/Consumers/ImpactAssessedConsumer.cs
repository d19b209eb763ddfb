using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Lifecycle;
using MassTransit;

namespace ControlPlane.Orchestrator.Consumers;

/// <summary>system-graph assessed a proposal: keep the impact report, move submitted → assessing.</summary>
public sealed partial class ImpactAssessedConsumer(ProposalLifecycle lifecycle, ILogger<ImpactAssessedConsumer> logger) : IConsumer<ImpactAssessed>
{
    public const string Queue = "orchestrator-impact-assessed";

    public Task Consume(ConsumeContext<ImpactAssessed> context) => lifecycle.RunAsync(async scope =>
    {
        var message = context.Message;
        var proposal = await ConsumerSteps.ProposalForAsync(scope, Queue, context, message.ProposalId, message.Proposal?.ContentHash, "impact-assessed", logger);
        if (proposal is null)
        {
            return;
        }

        if (message.Impact is null)
        {
            await scope.RecordRefusalAsync(proposal, "impact-assessed", "the assessment carries no impact report");
            return;
        }

        // The report is kept even when the decision overtook it; the transition itself is only legal from submitted.
        if (proposal.Impact is null)
        {
            ProposalStore.SetImpact(scope.Work, proposal.Id, message.Impact);
            proposal = proposal with { Impact = message.Impact, GraphVersion = message.Impact.GraphVersion };
        }

        if (ProposalStateMachine.IsPastAssessment(proposal.State))
        {
            // The decision came first (12 of 3,150 proposals at 100/s): keeping the report is all that is left to do.
            // A refusal would read to an auditor as something having gone wrong; evidence has the assessment itself.
            LogLateAssessment(logger, proposal.Id, StateNames.Of(proposal.State));
            return;
        }

        var reasons = message.Impact.Reasons is { Count: > 0 } r ? string.Join("; ", r) : "no notable impact";
        await scope.ApplyAsync(proposal, new Trigger(TriggerKind.ImpactAssessed, $"graph v{message.Impact.GraphVersion}: {reasons}"), LifecycleActors.SystemGraph);
    }, context.CancellationToken);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Proposal {ProposalId}: the assessment arrived after the proposal became {State}; its report is kept")]
    private static partial void LogLateAssessment(ILogger logger, Guid proposalId, string state);
}
