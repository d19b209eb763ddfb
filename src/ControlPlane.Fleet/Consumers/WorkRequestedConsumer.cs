using ControlPlane.Contracts;
using ControlPlane.Fleet.Work;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Messaging;
using MassTransit;
using Npgsql;

namespace ControlPlane.Fleet.Consumers;

/// <summary>
/// orchestrator → fleet: record the request and, when a live capable runner exists, sign and send the package in
/// the same transaction. Otherwise the request stays pending for the poller, which retries until its timeout.
/// </summary>
public sealed partial class WorkRequestedConsumer(NpgsqlDataSource dataSource, WorkDispatcher dispatcher, TimeProvider clock, ILogger<WorkRequestedConsumer> logger)
    : IConsumer<WorkRequested>
{
    public const string InboxName = "fleet-work-requested";

    public async Task Consume(ConsumeContext<WorkRequested> context)
    {
        var request = context.Message;
        if (request.WorkId == Guid.Empty)
        {
            throw new MessageRejectedException("WorkRequested carries no WorkId; fleet cannot correlate its result.");
        }

        var ct = context.CancellationToken;
        var now = clock.GetUtcNow();
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        if (!await work.AcceptOnceAsync(InboxName, context.MessageId ?? throw new MessageRejectedException("message has no MessageId"), ct))
        {
            return;
        }

        if (!await dispatcher.RecordAsync(work, request, now, ct))
        {
            LogRepeated(logger, request.WorkId);
        }
        else if (await dispatcher.RejectionAsync(work, request, ct) is { } rejection)
        {
            await dispatcher.FailAsync(work, request, rejection, now, ct);
        }
        else if (await dispatcher.TryPlaceAsync(work, request, now, ct) is null)
        {
            LogPending(logger, request.WorkId, request.Fleet, request.ActionKind);
        }

        await work.CommitAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Work {WorkId} was requested before; the repeat is ignored")]
    private static partial void LogRepeated(ILogger logger, Guid workId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Work {WorkId} waits for a live runner of fleet {Fleet} that can run {ActionKind}")]
    private static partial void LogPending(ILogger logger, Guid workId, string fleet, string actionKind);
}
