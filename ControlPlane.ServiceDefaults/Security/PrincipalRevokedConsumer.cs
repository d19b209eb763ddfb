using ControlPlane.Contracts;
using MassTransit;

namespace ControlPlane.ServiceDefaults.Security;

/// <summary>Feeds this replica's <see cref="RevocationList"/> from identity's revocation events.</summary>
public sealed class PrincipalRevokedConsumer(RevocationList revocations) : IConsumer<PrincipalRevoked>
{
    public Task Consume(ConsumeContext<PrincipalRevoked> context)
    {
        revocations.Revoke(context.Message.PrincipalId, context.Message.At);
        return Task.CompletedTask;
    }
}
