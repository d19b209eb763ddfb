using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Lifecycle;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.ServiceDefaults.Messaging;
using MassTransit;

namespace ControlPlane.Orchestrator.Consumers;

/// <summary>The first steps every lifecycle consumer takes inside its unit of work.</summary>
public static partial class ConsumerSteps
{
    /// <summary>Inbox dedupe: false when this consumer already handled the message (a redelivery).</summary>
    public static Task<bool> AcceptOnceAsync(LifecycleScope scope, string consumer, ConsumeContext context)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(context);
        return scope.Work.AcceptOnceAsync(consumer, MessageIdOf(context), scope.CancellationToken);
    }

    private static Guid MessageIdOf(ConsumeContext context) => context.MessageId ?? throw new MessageRejectedException("message without id");

    /// <summary>
    /// Inbox dedupe, then the proposal an event of another service is about (locked as <see cref="LifecycleScope.LoadAsync"/>
    /// does, in the inbox's round trip): null when the message was handled before, the proposal is unknown here
    /// (logged), or the event is about other content than the proposal's (recorded as a refused transition).
    /// </summary>
    public static async Task<ProposalRecord?> ProposalForAsync(LifecycleScope scope, string consumer, ConsumeContext context, Guid proposalId,
        string? contentHash, string trigger, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(context);
        ProposalRecord? proposal;
        await using (var reads = await scope.Work.AcceptOnceAndReadAsync(consumer, MessageIdOf(context), [ProposalStore.LockQuery(proposalId)],
            scope.CancellationToken))
        {
            if (reads is null)
            {
                return null;
            }

            proposal = await reads.ReadAsync(scope.CancellationToken) ? ProposalStore.Read(reads) : null;
        }

        if (proposal is null)
        {
            LogUnknown(logger, trigger, proposalId);
            return null;
        }

        if (!string.Equals(contentHash, proposal.ContentHash, StringComparison.Ordinal))
        {
            await scope.RecordRefusalAsync(proposal, trigger, $"the {trigger} event is for other content (content hash differs)");
            return null;
        }

        return proposal;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Trigger} for unknown proposal {ProposalId} ignored")]
    private static partial void LogUnknown(ILogger logger, string trigger, Guid proposalId);
}
