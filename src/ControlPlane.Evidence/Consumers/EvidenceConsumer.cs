using ControlPlane.Evidence.Autonomy;
using ControlPlane.Evidence.Recording;
using ControlPlane.ServiceDefaults.Messaging;
using MassTransit;

namespace ControlPlane.Evidence.Consumers;

/// <summary>Where evidence consumes and how many messages it handles at once (Evidence:ConsumerConcurrency).</summary>
public static class EvidenceConsumerSettings
{
    public const string QueueName = "evidence";

    /// <summary>
    /// Many at once by default: appends go to the log's group commit, so the messages handled together share one
    /// lock, one transaction and one commit. The log appends them in the order they reach it, which is the broker's
    /// delivery order except where handling overlaps; 1 keeps delivery order exactly, at one commit per message.
    /// A batch holds at most the messages in hand, so this also caps the batch; 256 appended about 5% more (README
    /// "Load", fourth round) but was not kept: more overlap, more records of one proposal out of causal order.
    /// </summary>
    public const int DefaultConcurrency = 64;
}

/// <summary>
/// Records one event type: the inbox entry (MassTransit MessageId), the record and its autonomy projection commit in one
/// transaction, shared with the other messages handled at the same time. The message is acknowledged after that commit.
/// </summary>
public sealed class EvidenceConsumer<T>(EvidenceLog log, EvidenceKind<T> kind) : IConsumer<T> where T : class
{
    public async Task Consume(ConsumeContext<T> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var messageId = context.MessageId
            ?? throw new MessageRejectedException($"{kind.Name} arrived without a MessageId; evidence cannot record it exactly once.");
        await log.AppendOnceAsync(kind.Draft(context.Message), messageId, context.CancellationToken,
            () => AutonomyProjection.Commands(context.Message));
    }
}
