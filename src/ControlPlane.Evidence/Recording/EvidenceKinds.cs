using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Consumers;
using MassTransit;

namespace ControlPlane.Evidence.Recording;

/// <summary>An event type evidence records, and how to file it: which proposal, which actor, when it happened.</summary>
public abstract class EvidenceKind(Type messageType)
{
    public Type MessageType { get; } = messageType;

    /// <summary>The record kind: the message type's name ("ApprovalRecorded").</summary>
    public string Name => MessageType.Name;

    public abstract void Register(IBusRegistrationConfigurator bus, int concurrency);
}

public sealed class EvidenceKind<T>(Func<T, Guid?> proposalId, Func<T, string?> actor, Func<T, DateTimeOffset> occurredAt)
    : EvidenceKind(typeof(T)) where T : class
{
    public EvidenceDraft Draft(T message) => EvidenceDraft.From(message, proposalId(message), actor(message), occurredAt(message));

    public override void Register(IBusRegistrationConfigurator bus, int concurrency)
    {
        ArgumentNullException.ThrowIfNull(bus);
        bus.AddSingleton(this);
        bus.AddConsumer<EvidenceConsumer<T>>().Endpoint(e =>
        {
            // Every kind on one queue: the log records events in the order the broker delivers them.
            e.Name = EvidenceConsumerSettings.QueueName;
            e.ConcurrentMessageLimit = concurrency;
            e.PrefetchCount = Math.Max(16, concurrency * 4);
        });
    }
}

/// <summary>
/// Every governance event evidence records. Adding an event type is one line here; the test
/// Every_event_in_contracts_is_recorded fails when Contracts gains an event that is not listed.
/// Actor is the principal the event itself names (null when it names none).
/// </summary>
public static class EvidenceKinds
{
    public static readonly IReadOnlyList<EvidenceKind> All =
    [
        new EvidenceKind<ProposalSubmitted>(e => e.ProposalId, e => e.AgentId, e => e.SubmittedAt),
        new EvidenceKind<ProposalStateChanged>(e => e.ProposalId, e => e.Actor, e => e.At),
        new EvidenceKind<ProposalTransitionRefused>(e => e.ProposalId, _ => null, e => e.At),
        new EvidenceKind<ProposalSubmissionRefused>(_ => null, e => e.AgentId, e => e.At),
        new EvidenceKind<ImpactAssessed>(e => e.ProposalId, _ => null, e => e.Impact.AssessedAt),
        new EvidenceKind<PolicyDecided>(e => e.ProposalId, _ => null, e => e.Decision.DecidedAt),
        new EvidenceKind<ApprovalRecorded>(e => e.ProposalId, e => e.ApproverId, e => e.At),
        new EvidenceKind<ChangeRequestLinked>(e => e.ProposalId, _ => null, e => e.At),
        new EvidenceKind<ExternalApprovalIgnored>(e => e.ProposalId, _ => null, e => e.At),
        new EvidenceKind<PolicyBundleActivated>(_ => null, e => e.ActivatedBy, e => e.At),
        new EvidenceKind<GraphChanged>(_ => null, e => e.ChangedBy, e => e.At),
        new EvidenceKind<WorkRequested>(e => e.ProposalId, _ => null, e => e.RequestedAt),
        new EvidenceKind<WorkPackageIssued>(e => e.ProposalId, _ => null, e => e.IssuedAt),
        new EvidenceKind<WorkCompleted>(e => e.ProposalId, e => e.RunnerId, e => e.At),
        new EvidenceKind<WorkRefused>(e => e.ProposalId, e => e.RunnerId, e => e.At),
        new EvidenceKind<WorkAcknowledged>(e => e.ProposalId, e => e.RunnerId, e => e.At),
        new EvidenceKind<WorkWithdrawn>(e => e.ProposalId, _ => null, e => e.At),
        new EvidenceKind<WorkResultSuperseded>(e => e.ProposalId, e => e.RunnerId, e => e.At),
        new EvidenceKind<PrincipalChanged>(_ => null, e => e.ChangedBy, e => e.At),
        new EvidenceKind<PrincipalRevoked>(_ => null, e => e.RevokedBy, e => e.At),
        new EvidenceKind<RoleBindingChanged>(_ => null, e => e.ChangedBy, e => e.At),
        new EvidenceKind<FleetCapabilitiesChanged>(_ => null, _ => null, e => e.At),
        new EvidenceKind<SigningKeyPublished>(_ => null, e => e.Owner, e => e.At),
        new EvidenceKind<CredentialLocked>(_ => null, e => e.PrincipalId, e => e.At),
        new EvidenceKind<SigningKeyRotated>(_ => null, e => e.RotatedBy, e => e.At),
        new EvidenceKind<KillSwitchChanged>(_ => null, e => e.ChangedBy, e => e.At),
        new EvidenceKind<ActionCatalogPublished>(_ => null, e => e.Publisher, e => e.At),
        new EvidenceKind<HumanSignedIn>(_ => null, e => e.HumanId, e => e.At),
        new EvidenceKind<HumanSignedOut>(_ => null, e => e.HumanId, e => e.At),
        new EvidenceKind<DeploymentDriftDetected>(_ => null, e => e.Actor, e => e.DeployedAt),
        new EvidenceKind<ValidationVerdict>(e => e.ProposalId, _ => null, e => e.At),
        new EvidenceKind<WorkCredentialMinted>(e => e.ProposalId, e => e.Grant.RunnerId, e => e.At),
        new EvidenceKind<WorkCredentialRevoked>(e => e.ProposalId, e => e.Grant.RunnerId, e => e.At),
        new EvidenceKind<ChangeWindowChanged>(_ => null, e => e.ChangedBy, e => e.At),
    ];

    public static readonly IReadOnlySet<string> Names = All.Select(k => k.Name).ToHashSet(StringComparer.Ordinal);

    public static EvidenceKind<T> Of<T>() where T : class => All.OfType<EvidenceKind<T>>().Single();
}
