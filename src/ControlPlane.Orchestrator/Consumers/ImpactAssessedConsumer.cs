using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Lifecycle;
using MassTransit;

namespace ControlPlane.Orchestrator.Consumers;

/// <summary>system-graph assessed a proposal: keep the impact report, move submitted → assessing.</summary>
public sealed class ImpactAssessedConsumer(ProposalLifecycle lifecycle, ILogger<ImpactAssessedConsumer> logger) : IConsumer<ImpactAssessed>
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
            await ProposalStore.SetImpactAsync(scope.Work, proposal.Id, message.Impact, scope.CancellationToken);
            proposal = proposal with { Impact = message.Impact, GraphVersion = message.Impact.GraphVersion };
        }

        var reasons = message.Impact.Reasons is { Count: > 0 } r ? string.Join("; ", r) : "no notable impact";
        await scope.ApplyAsync(proposal, new Trigger(TriggerKind.ImpactAssessed, $"graph v{message.Impact.GraphVersion}: {reasons}"), LifecycleActors.SystemGraph);
    }, context.CancellationToken);
}
