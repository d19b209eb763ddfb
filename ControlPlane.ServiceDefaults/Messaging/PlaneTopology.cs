using ControlPlane.Contracts;
using MassTransit;

namespace ControlPlane.ServiceDefaults.Messaging;

/// <summary>One consumer queue of the plane and one message type it takes from that type's exchange.</summary>
public abstract record QueueBinding(string Queue, Type Message)
{
    internal abstract void Declare(IRabbitMqBusFactoryConfigurator bus);
}

public sealed record QueueBinding<T>(string Queue) : QueueBinding(Queue, typeof(T)) where T : class
{
    // The publisher binds the consumer's durable queue (declared as its receive endpoint declares it) straight to
    // the message exchange; the consumer later adds its own path through an exchange named after the queue.
    // RabbitMQ routes a message to a queue once however many bindings lead there, so nothing is doubled.
    internal override void Declare(IRabbitMqBusFactoryConfigurator bus) => bus.Publish<T>(p => p.BindQueue(p.Exchange.ExchangeName, Queue));
}

/// <summary>
/// Every consumer queue of the whole plane, declared by every publisher before its first publish of a type, so
/// an event published before its consumer ever ran waits in the consumer's queue instead of meeting an exchange
/// with nothing bound (RabbitMQ drops those). This removes any start order between services.
/// <para>
/// Adding a consumer: add its queue and message type here (the test Every_consumer_of_every_service_is_in_the_plane_topology
/// fails until you do). Per-instance temporary queues (revocations) and direct sends (runner-&lt;id&gt;) are not
/// listed: the first is only for replicas that run, the second is declared by the sender.
/// </para>
/// </summary>
public static class PlaneTopology
{
    public const string Evidence = "evidence";

    public static readonly IReadOnlyList<QueueBinding> Bindings =
    [
        // system-graph
        new QueueBinding<ProposalSubmitted>("system-graph-proposal-submitted"),
        new QueueBinding<ProposalStateChanged>("system-graph-proposal-state-changed"),

        // policy
        new QueueBinding<ImpactAssessed>("policy-impact-assessed"),
        new QueueBinding<PrincipalChanged>("policy-principal-changed"),
        new QueueBinding<PrincipalRevoked>("policy-principal-revoked"),
        new QueueBinding<FleetCapabilitiesChanged>("policy-fleet-capabilities-changed"),
        new QueueBinding<ActionCatalogPublished>("policy-action-catalog-published"),
        new QueueBinding<ProposalSubmitted>("policy-proposal-submitted"),
        new QueueBinding<ProposalStateChanged>("policy-proposal-state-changed"),
        new QueueBinding<WorkRequested>("policy-work-requested"),

        // orchestrator
        new QueueBinding<SubmitProposal>("orchestrator-submit-proposal"),
        new QueueBinding<ImpactAssessed>("orchestrator-impact-assessed"),
        new QueueBinding<PolicyDecided>("orchestrator-policy-decided"),
        new QueueBinding<WorkCompleted>("orchestrator-work-completed"),
        new QueueBinding<WorkRefused>("orchestrator-work-refused"),
        new QueueBinding<WorkAcknowledged>("orchestrator-work-acknowledged"),
        new QueueBinding<ProposalStateChanged>("orchestrator-itsm-change-requests"),
        new QueueBinding<ProposalStateChanged>("orchestrator-github-commit-status"),

        // fleet
        new QueueBinding<WorkRequested>("work-requested"),
        new QueueBinding<WorkWithdrawn>("work-withdrawn"),

        // evidence: every governance event, on one queue (the order of the log)
        new QueueBinding<ProposalSubmitted>(Evidence),
        new QueueBinding<ProposalStateChanged>(Evidence),
        new QueueBinding<ProposalTransitionRefused>(Evidence),
        new QueueBinding<ProposalSubmissionRefused>(Evidence),
        new QueueBinding<ImpactAssessed>(Evidence),
        new QueueBinding<PolicyDecided>(Evidence),
        new QueueBinding<ApprovalRecorded>(Evidence),
        new QueueBinding<ChangeRequestLinked>(Evidence),
        new QueueBinding<ExternalApprovalIgnored>(Evidence),
        new QueueBinding<PolicyBundleActivated>(Evidence),
        new QueueBinding<GraphChanged>(Evidence),
        new QueueBinding<WorkRequested>(Evidence),
        new QueueBinding<WorkPackageIssued>(Evidence),
        new QueueBinding<WorkCompleted>(Evidence),
        new QueueBinding<WorkRefused>(Evidence),
        new QueueBinding<PrincipalChanged>(Evidence),
        new QueueBinding<PrincipalRevoked>(Evidence),
        new QueueBinding<RoleBindingChanged>(Evidence),
        new QueueBinding<FleetCapabilitiesChanged>(Evidence),
        new QueueBinding<SigningKeyPublished>(Evidence),
        new QueueBinding<CredentialLocked>(Evidence),
        new QueueBinding<SigningKeyRotated>(Evidence),
        new QueueBinding<KillSwitchChanged>(Evidence),
        new QueueBinding<ActionCatalogPublished>(Evidence),
        new QueueBinding<WorkAcknowledged>(Evidence),
        new QueueBinding<WorkWithdrawn>(Evidence),
        new QueueBinding<WorkResultSuperseded>(Evidence),
        new QueueBinding<HumanSignedIn>(Evidence),
        new QueueBinding<HumanSignedOut>(Evidence),
        new QueueBinding<DeploymentDriftDetected>(Evidence),
        new QueueBinding<ValidationVerdict>(Evidence),
        new QueueBinding<WorkCredentialMinted>(Evidence),
        new QueueBinding<WorkCredentialRevoked>(Evidence),
        new QueueBinding<ChangeWindowChanged>(Evidence),
    ];

    /// <summary>Makes this bus declare every listed queue and binding before it first publishes the message type.</summary>
    public static void DeclarePlaneTopology(this IRabbitMqBusFactoryConfigurator bus, IEnumerable<QueueBinding>? bindings = null)
    {
        ArgumentNullException.ThrowIfNull(bus);
        foreach (var binding in bindings ?? Bindings)
        {
            binding.Declare(bus);
        }
    }
}
