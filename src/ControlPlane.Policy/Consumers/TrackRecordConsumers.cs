using ControlPlane.Contracts;
using ControlPlane.Policy.Data;
using ControlPlane.ServiceDefaults.Messaging;
using MassTransit;

namespace ControlPlane.Policy.Consumers;

/// <summary>Learns whose proposal is whose (agent, action kind, environment) for the track record.</summary>
public sealed class TrackRecordProposalSubmittedConsumer(TrackRecordStore store) : IConsumer<ProposalSubmitted>
{
    public const string Queue = "policy-proposal-submitted";

    public Task Consume(ConsumeContext<ProposalSubmitted> context)
    {
        var proposal = context.Message;
        if (proposal.Action is null || string.IsNullOrEmpty(proposal.Action.Kind) || string.IsNullOrEmpty(proposal.Environment) || string.IsNullOrEmpty(proposal.AgentId))
        {
            throw new MessageRejectedException($"ProposalSubmitted {proposal.ProposalId} lacks the agent, the action kind or the environment.");
        }

        return store.RecordAsync(proposal, context.CancellationToken);
    }
}

/// <summary>Records how proposals end: completed (verified) or failed.</summary>
public sealed class TrackRecordStateChangedConsumer(TrackRecordStore store) : IConsumer<ProposalStateChanged>
{
    public const string Queue = "policy-proposal-state-changed";

    public Task Consume(ConsumeContext<ProposalStateChanged> context) => store.RecordAsync(context.Message, context.CancellationToken);
}

/// <summary>Records rollbacks (orchestrator requests the rollback step when a change that started executing failed) and
/// verifications (a completion counts as a verified success only when one ran).</summary>
public sealed class TrackRecordRollbackConsumer(TrackRecordStore store) : IConsumer<WorkRequested>
{
    public const string Queue = "policy-work-requested";

    public Task Consume(ConsumeContext<WorkRequested> context) => context.Message.Step switch
    {
        WorkStep.Rollback => store.RecordRollbackAsync(context.Message.ProposalId, context.Message.RequestedAt, context.CancellationToken),
        WorkStep.Verify => store.RecordVerificationAsync(context.Message.ProposalId, context.CancellationToken),
        _ => Task.CompletedTask,
    };
}
