using ControlPlane.Contracts;
using MassTransit;

namespace ControlPlane.Runner.Consumers;

/// <summary>
/// Consumes the runner's own queue runner-{id}. The executor never throws once a package is accepted, so a bus
/// retry can never run a package twice (and a redelivery would be refused as a replayed nonce anyway). Before
/// acceptance it may throw a TransientDependencyException (fleet's keys unreachable): the shared retry policy then
/// redelivers with a long backoff instead of the runner refusing work because fleet was restarting.
/// </summary>
public sealed class DeliverWorkPackageConsumer(WorkExecutor executor) : IConsumer<DeliverWorkPackage>
{
    public Task Consume(ConsumeContext<DeliverWorkPackage> context) => executor.HandleAsync(context.Message, context.CancellationToken);
}
