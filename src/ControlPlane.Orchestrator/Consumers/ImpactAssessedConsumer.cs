using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Lifecycle;
using ControlPlane.ServiceDefaults.Messaging;
using MassTransit;

namespace ControlPlane.Orchestrator.Consumers;

/// <summary>system-graph assessed a proposal: keep the impact report, move submitted → assessing.</summary>
public sealed partial class ImpactAssessedConsumer(ProposalLifecycle lifecycle, ILogger<ImpactAssessedConsumer> logger) : IConsumer<ImpactAssessed>
{
    public const string Queue = "orchestrator-impact-assessed";

    public Task Consume(ConsumeContext<ImpactAssessed> context) => lifecycle.RunAsync(async scope =>
    {
        var message = context.Message;
        if (!await scope.Work.AcceptOnceAsync(Queue, context.MessageId ?? throw new MessageRejectedException("message without id"), scope.CancellationToken))
        {
            return;
        }

        var proposal = await scope.LoadAsync(message.ProposalId);
        if (proposal is null)
        {
            LogUnknown(logger, message.ProposalId);
            return;
        }

        if (!string.Equals(message.Proposal?.ContentHash, proposal.ContentHash, StringComparison.Ordinal))
        {
            await scope.RecordRefusalAsync(proposal, "impact-assessed", "the assessment is for other content (content hash differs)");
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "ImpactAssessed for unknown proposal {ProposalId} ignored")]
    private static partial void LogUnknown(ILogger logger, Guid proposalId);
}
