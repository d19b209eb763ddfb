using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.ServiceDefaults.Data;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Orchestrator.Itsm;

/// <summary>
/// Brings a proposal's ServiceNow change request in line with the proposal: creates it once (looked up by
/// correlation_id first, so a replayed message or a crash between the call and the commit never makes a second),
/// then PATCHes its state as the proposal moves on. The link is recorded in the same transaction as
/// <see cref="ChangeRequestLinked"/> for evidence. Idempotent: called again with nothing new, it changes nothing.
/// </summary>
public sealed partial class ChangeRequestSync(NpgsqlDataSource dataSource, ServiceNowClient serviceNow, IOptions<ServiceNowOptions> options,
    TimeProvider clock, ILogger<ChangeRequestSync> logger)
{
    public const string System = "servicenow";

    public bool Enabled => options.Value.Enabled;

    public async Task ReconcileAsync(Guid proposalId, CancellationToken ct)
    {
        if (!Enabled)
        {
            return;
        }

        // First its own commit: once a change request is wanted, the row outlives any outage (the poller retries it).
        await using (var first = await UnitOfWork.BeginAsync(dataSource, ct))
        {
            var proposal = await ProposalStore.LoadAsync(first, proposalId, ct);
            if (proposal is null || !ChangeRequestContent.Wanted(proposal))
            {
                return;
            }

            await ChangeRequestStore.EnsureAsync(first, proposalId, clock.GetUtcNow(), ct);
            await first.CommitAsync(ct);
        }

        try
        {
            await SyncLockedAsync(proposalId, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Only the exception's type and our own message: ServiceNow's answer may echo data, credentials never appear.
            LogSyncFailed(logger, proposalId, ex.GetType().Name, ex.Message);
            try
            {
                await ChangeRequestStore.SetErrorAsync(dataSource, proposalId, ex.Message, clock.GetUtcNow(), CancellationToken.None);
            }
            catch (NpgsqlException)
            {
                // The error note is informational; the original failure is what the caller retries.
            }

            throw;
        }
    }

    private async Task SyncLockedAsync(Guid proposalId, CancellationToken ct)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        var row = await ChangeRequestStore.LockAsync(work, proposalId, ct);
        var proposal = await ProposalStore.LoadAsync(work, proposalId, ct);
        if (row is null || proposal is null)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var o = options.Value;
        if (row.SysId is null)
        {
            var record = await serviceNow.FindByCorrelationAsync(proposalId, ct)
                ?? await serviceNow.CreateAsync(ChangeRequestContent.Create(proposal, o.AssignmentGroup), ct);
            var url = ChangeRequestContent.Url(o.InstanceUrl!, record.SysId);
            row = row with { SysId = record.SysId, Number = record.Number, Url = url, LastError = null };
            await work.EnqueueAsync(new ChangeRequestLinked(proposalId, System, record.Number, record.SysId, url, now), ct);
            LogLinked(logger, proposalId, record.Number);
        }

        if (ChangeRequestContent.Target(proposal.State) is { } target && target.Key != row.SyncedState)
        {
            await serviceNow.UpdateAsync(row.SysId, target.Fields, ct);
            row = row with { SyncedState = target.Key, LastError = null };
            LogMoved(logger, proposalId, row.Number ?? row.SysId, target.Key);
        }

        await ChangeRequestStore.UpdateAsync(work, row, now, ct);
        await work.CommitAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Proposal {ProposalId}: linked to ServiceNow change {Number}")]
    private static partial void LogLinked(ILogger logger, Guid proposalId, string number);

    [LoggerMessage(Level = LogLevel.Information, Message = "Proposal {ProposalId}: ServiceNow change {Number} moved to {State}")]
    private static partial void LogMoved(ILogger logger, Guid proposalId, string number, string state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Proposal {ProposalId}: ServiceNow change request not in step yet ({Error}: {Message}); retried")]
    private static partial void LogSyncFailed(ILogger logger, Guid proposalId, string error, string message);
}
