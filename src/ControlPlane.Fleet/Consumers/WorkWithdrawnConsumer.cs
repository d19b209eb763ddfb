using ControlPlane.Contracts;
using ControlPlane.Fleet.Work;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Messaging;
using MassTransit;
using Npgsql;

namespace ControlPlane.Fleet.Consumers;

/// <summary>
/// orchestrator → fleet: the work was superseded by a re-offer or the proposal ended. Fleet stops offering it; a
/// runner holding its package can no longer have it confirmed, and a late result is recorded as superseded.
/// </summary>
public sealed partial class WorkWithdrawnConsumer(NpgsqlDataSource dataSource, ILogger<WorkWithdrawnConsumer> logger) : IConsumer<WorkWithdrawn>
{
    public const string InboxName = "fleet-work-withdrawn";

    public async Task Consume(ConsumeContext<WorkWithdrawn> context)
    {
        if (context.Message.WorkId == Guid.Empty)
        {
            throw new MessageRejectedException("WorkWithdrawn carries no WorkId.");
        }

        var ct = context.CancellationToken;
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        if (!await work.AcceptOnceAsync(InboxName, context.MessageId ?? throw new MessageRejectedException("message has no MessageId"), ct))
        {
            return;
        }

        if (await WorkDispatcher.WithdrawAsync(work, context.Message, ct))
        {
            LogWithdrawn(logger, context.Message.WorkId, context.Message.Reason);
        }

        await work.CommitAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Work {WorkId} withdrawn by orchestrator: {Reason}")]
    private static partial void LogWithdrawn(ILogger logger, Guid workId, string reason);
}
