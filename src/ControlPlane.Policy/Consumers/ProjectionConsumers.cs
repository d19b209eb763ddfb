using ControlPlane.Contracts;
using ControlPlane.Policy.Data;
using MassTransit;

namespace ControlPlane.Policy.Consumers;

/// <summary>Projects agents from identity's principal events (humans are not projected).</summary>
public sealed class PrincipalChangedConsumer(AgentProjections projections) : IConsumer<PrincipalChanged>
{
    public const string Queue = "policy-principal-changed";

    public Task Consume(ConsumeContext<PrincipalChanged> context) =>
        string.Equals(context.Message.Kind, "agent", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(context.Message.PrincipalId)
            ? projections.ApplyAsync(context.Message, context.CancellationToken)
            : Task.CompletedTask;
}

/// <summary>Marks revoked agents (a revoked credential alone leaves the agent as it is).</summary>
public sealed class AgentRevokedConsumer(AgentProjections projections) : IConsumer<PrincipalRevoked>
{
    public const string Queue = "policy-principal-revoked";

    public Task Consume(ConsumeContext<PrincipalRevoked> context) =>
        context.Message.CredentialId is null && !string.IsNullOrEmpty(context.Message.PrincipalId)
            ? projections.ApplyAsync(context.Message, context.CancellationToken)
            : Task.CompletedTask;
}

/// <summary>Projects what each fleet's live runners can execute.</summary>
public sealed class FleetCapabilitiesChangedConsumer(AgentProjections projections) : IConsumer<FleetCapabilitiesChanged>
{
    public const string Queue = "policy-fleet-capabilities-changed";

    public Task Consume(ConsumeContext<FleetCapabilitiesChanged> context) =>
        string.IsNullOrEmpty(context.Message.Fleet) ? Task.CompletedTask : projections.ApplyAsync(context.Message, context.CancellationToken);
}

/// <summary>Projects orchestrator's action catalog: which fleet and runner command each proposal kind becomes.</summary>
public sealed class ActionCatalogPublishedConsumer(AgentProjections projections) : IConsumer<ActionCatalogPublished>
{
    public const string Queue = "policy-action-catalog-published";

    public Task Consume(ConsumeContext<ActionCatalogPublished> context) => projections.ApplyAsync(context.Message, context.CancellationToken);
}
