using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Approvals;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.ServiceDefaults.Data;
using Npgsql;

namespace ControlPlane.Orchestrator.Itsm;

/// <summary>
/// Reads the decided approvals of every linked change whose proposal awaits approval and applies each once. A
/// ServiceNow approver counts only as the named human of identity they map to, through the same rules as a
/// console or CLI approval (<see cref="ProposalCommands.DecideAsync"/>: human, not the agent nor its sponsor, an
/// approver binding covering the proposal now, one decision per human). Anything else is recorded as ignored with
/// the reason (<see cref="ExternalApprovalIgnored"/>) and never counts.
/// </summary>
public sealed partial class ServiceNowApprovals(NpgsqlDataSource dataSource, ServiceNowClient serviceNow, ApproverDirectory directory,
    ProposalCommands commands, TimeProvider clock, ILogger<ServiceNowApprovals> logger)
{
    public async Task PollAsync(CancellationToken ct)
    {
        foreach (var change in await ChangeRequestStore.AwaitingApprovalAsync(dataSource, ct))
        {
            foreach (var approval in await serviceNow.DecidedApprovalsAsync(change.SysId!, ct))
            {
                if (approval.SysId.Length > 0 && !await ChangeRequestStore.SeenAsync(dataSource, approval.SysId, ct))
                {
                    await ApplyAsync(change, approval, ct);
                }
            }
        }
    }

    private async Task ApplyAsync(ChangeRequestRow change, ApproverRecord approval, CancellationToken ct)
    {
        var decision = approval.State == "approved" ? ApprovalDecision.Approve : ApprovalDecision.Reject;
        var external = approval.UserName ?? approval.Email ?? "(unknown)";
        var (human, reason) = await directory.FindAsync(approval.UserName, approval.Email, ct);
        var counted = false;
        if (human is not null)
        {
            var comment = $"ServiceNow {change.Number} approval {approval.SysId} by {external}" +
                (string.IsNullOrWhiteSpace(approval.Comments) ? string.Empty : $": {approval.Comments}");
            // No pins: ServiceNow shows the change as created; drift is still caught before execution.
            var result = await commands.DecideAsync(human, change.ProposalId, decision, comment, new ApprovalPins(null, null, null, null), ct);
            (counted, reason) = result switch
            {
                CommandResult.Done => (true, null),
                CommandResult.Forbidden f => (false, f.Reason),
                CommandResult.Conflict c => (false, c.Reason),
                _ => (false, "the proposal no longer exists"),
            };
        }

        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        var now = clock.GetUtcNow();
        var wire = decision == ApprovalDecision.Approve ? "approve" : "reject";
        if (await ChangeRequestStore.RecordApprovalAsync(work, approval.SysId, change.ProposalId, external, wire, human?.Id, counted, reason, now, ct) && !counted)
        {
            await work.EnqueueAsync(new ExternalApprovalIgnored(change.ProposalId, ChangeRequestSync.System, $"{change.Number}/{approval.SysId}", external, wire,
                reason!, now), ct);
        }

        await work.CommitAsync(ct);
        if (counted)
        {
            LogCounted(logger, change.ProposalId, external, human!.Id, wire);
        }
        else
        {
            LogIgnored(logger, change.ProposalId, external, wire, reason!);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Proposal {ProposalId}: ServiceNow {Decision} by {External} counted as {Human}")]
    private static partial void LogCounted(ILogger logger, Guid proposalId, string external, string human, string decision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Proposal {ProposalId}: ServiceNow {Decision} by {External} ignored: {Reason}")]
    private static partial void LogIgnored(ILogger logger, Guid proposalId, string external, string decision, string reason);
}
