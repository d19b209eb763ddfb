using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Approvals;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Lifecycle;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Orchestrator.Proposals;

/// <summary>How a human or agent command on an existing proposal ended.</summary>
public abstract record CommandResult
{
    public sealed record Done(Guid ProposalId, ProposalState State, int Approvals, int Required) : CommandResult;

    public sealed record NotFound : CommandResult;

    public sealed record Forbidden(string Reason) : CommandResult;

    public sealed record Conflict(string Reason) : CommandResult;
}

/// <summary>Approvals and cancellations: the object-level checks, then the transition, in one unit of work.</summary>
public sealed class ProposalCommands(ProposalLifecycle lifecycle)
{
    public Task<CommandResult> DecideAsync(Caller caller, Guid proposalId, ApprovalDecision decision, string? comment, ApprovalPins pins, CancellationToken ct) =>
        lifecycle.RunAsync<CommandResult>(async scope =>
        {
            var proposal = await scope.LoadAsync(proposalId);
            if (proposal is null)
            {
                return new CommandResult.NotFound();
            }

            IReadOnlyList<ApprovalRecorded> existing;
            await using (var command = await scope.Work.CommandAsync(string.Empty))
            {
                existing = await ProposalStore.ListApprovalsAsync(command, proposalId, ct);
            }

            var verdict = ApprovalRules.Check(caller, proposal, existing, pins);
            var required = ApprovalRules.RequiredCount(proposal.Decision);
            var approvals = existing.Count(a => a.Decision == ApprovalDecision.Approve);
            if (verdict.Kind != ApprovalVerdictKind.Accepted)
            {
                scope.Rollback();
                return verdict.Kind == ApprovalVerdictKind.Forbidden
                    ? new CommandResult.Forbidden(verdict.Reason!)
                    : new CommandResult.Conflict(verdict.Reason!);
            }

            var current = ApprovalRules.Current(proposal);
            var recorded = new ApprovalRecorded(proposalId, caller.Id, caller.Name, decision, comment, current.ProposalHash, current.GraphVersion,
                current.PolicyHash, scope.Now, current.PlanHash);
            if (!await ProposalStore.TryInsertApprovalAsync(scope.Work, proposalId, recorded, ct))
            {
                scope.Rollback();
                return new CommandResult.Conflict($"{caller.Id} already decided on this proposal; a human counts once.");
            }

            await scope.Work.EnqueueAsync(recorded, ct);
            if (decision == ApprovalDecision.Approve)
            {
                approvals++;
            }

            var trigger = decision == ApprovalDecision.Reject
                ? new Trigger(TriggerKind.ApprovalRejected, $"rejected by {caller.Id}" + (comment is null ? string.Empty : $": {comment}"))
                : approvals >= required
                    ? new Trigger(TriggerKind.ApprovalQuorumReached, $"approved by {approvals} of {required} required humans")
                    : new Trigger(TriggerKind.ApprovalCounted, $"approval {approvals} of {required} by {caller.Id}");
            var outcome = await scope.ApplyAsync(proposal, trigger, caller.Id);
            if (!outcome.Applied)
            {
                scope.Rollback();
                return new CommandResult.Conflict(outcome.Refusal!);
            }

            scope.AfterCommit(() =>
            {
                OrchestratorTelemetry.ApprovalRecorded(decision, proposal.Environment);
                return Task.CompletedTask;
            });
            return new CommandResult.Done(proposalId, outcome.Proposal.State, approvals, required);
        }, ct);

    public Task<CommandResult> CancelAsync(Caller caller, Guid proposalId, string? reason, CancellationToken ct) =>
        lifecycle.RunAsync<CommandResult>(async scope =>
        {
            var proposal = await scope.LoadAsync(proposalId);
            if (proposal is null)
            {
                return new CommandResult.NotFound();
            }

            if (!ProposalAccess.CanCancel(caller, proposal))
            {
                return new CommandResult.Forbidden("Only the proposing agent or a human operator may cancel this proposal.");
            }

            var text = string.IsNullOrWhiteSpace(reason) ? $"cancelled by {caller.Id}" : $"cancelled by {caller.Id}: {reason}";
            var outcome = await scope.ApplyAsync(proposal, new Trigger(TriggerKind.Cancel, text), caller.Id);
            return outcome.Applied
                ? new CommandResult.Done(proposalId, outcome.Proposal.State, 0, 0)
                : new CommandResult.Conflict(outcome.Refusal!); // the refusal itself is committed as a record
        }, ct);
}
