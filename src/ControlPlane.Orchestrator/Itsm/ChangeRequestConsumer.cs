using ControlPlane.Contracts;
using MassTransit;

namespace ControlPlane.Orchestrator.Itsm;

/// <summary>
/// Every state change of a proposal (published through the outbox in the transition's own transaction) brings its
/// ServiceNow change request in step. The consumer reads the proposal's current state, so out-of-order or replayed
/// messages are harmless; ServiceNow outages are retried (TransientRetry) and caught up by <see cref="ServiceNowPoller"/>.
/// Registered always (the queue is in the plane topology); without ServiceNow configured it does nothing.
/// </summary>
public sealed class ChangeRequestConsumer(ChangeRequestSync sync) : IConsumer<ProposalStateChanged>
{
    public const string Queue = "orchestrator-itsm-change-requests";

    public Task Consume(ConsumeContext<ProposalStateChanged> context) =>
        sync.Enabled ? sync.ReconcileAsync(context.Message.ProposalId, context.CancellationToken) : Task.CompletedTask;
}
