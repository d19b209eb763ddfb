using ControlPlane.Contracts;
using MassTransit;

namespace ControlPlane.SystemGraph.Deployments;

/// <summary>
/// Follows the plane's own proposals through their lifecycle (executing, completed, ...) so a deployment CI/CD reports
/// can be told apart: governed (a proposal was executing on that node and environment) or drift. The write is
/// idempotent (first executing time and first terminal state stick), so redelivery needs no inbox.
/// </summary>
public sealed class ProposalStateChangedConsumer(DeploymentStore store) : IConsumer<ProposalStateChanged>
{
    public const string Queue = "system-graph-proposal-state-changed";

    public Task Consume(ConsumeContext<ProposalStateChanged> context) => store.RecordStateAsync(context.Message, context.CancellationToken);
}
