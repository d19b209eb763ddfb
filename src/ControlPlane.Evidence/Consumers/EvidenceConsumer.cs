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
    /// One at a time by default: appends are serialized anyway, and a single consumer keeps each proposal's
    /// records in the order the broker delivered them. Raise it to overlap deserialization and the inbox write.
    /// </summary>
    public const int DefaultConcurrency = 1;
}

/// <summary>Records one event type: the inbox entry (MassTransit MessageId), the record and its autonomy projection commit in one transaction.</summary>
public sealed class EvidenceConsumer<T>(EvidenceLog log, EvidenceKind<T> kind) : IConsumer<T> where T : class
{
    public async Task Consume(ConsumeContext<T> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var messageId = context.MessageId
            ?? throw new MessageRejectedException($"{kind.Name} arrived without a MessageId; evidence cannot record it exactly once.");
        await log.AppendOnceAsync(kind.Draft(context.Message), messageId, context.CancellationToken,
            work => AutonomyProjection.ApplyAsync(work, context.Message, context.CancellationToken));
    }
}
