using System.Reflection;
using ControlPlane.Contracts;
using ControlPlane.Evidence.Recording;

namespace ControlPlane.Evidence.Tests.Chain;

/// <summary>Evidence records every governance event: Contracts gaining an event type without a line in EvidenceKinds fails here.</summary>
public sealed class EvidenceKindsTests
{
    // Messages that are not events of the governance chain: a command and its reply.
    private static readonly string[] NotEvents = [nameof(SubmitProposal), nameof(ProposalAccepted)];

    /// <summary>
    /// An event is a record of ControlPlane.Contracts that says when it happened (a timestamp of its own or in a
    /// part it carries directly), is not only a part of another message (unless it is itself a proposal event,
    /// as ProposalSubmitted inside ImpactAssessed), is not a DSSE payload (WorkPackage, WorkResult), and is not a
    /// command. HTTP bodies and commands carry no timestamp of their own.
    /// </summary>
    [Fact]
    public void Every_event_in_contracts_is_recorded()
    {
        var contracts = typeof(ContractJson).Assembly.GetExportedTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false, Namespace: "ControlPlane.Contracts" } && IsRecord(t))
            .ToList();
        var parts = contracts.SelectMany(t => t.GetProperties()).SelectMany(p => Flatten(p.PropertyType))
            .Where(t => !IsProposalEvent(t))
            .ToHashSet();
        var events = contracts
            .Where(t => !parts.Contains(t) && t.GetField("PayloadType", BindingFlags.Public | BindingFlags.Static) is null && !NotEvents.Contains(t.Name))
            .Where(t => IsTimestamped(t) || t.GetProperties().Any(p => contracts.Contains(p.PropertyType) && IsTimestamped(p.PropertyType)))
            .Select(t => t.Name)
            .ToHashSet(StringComparer.Ordinal);

        var missing = events.Except(EvidenceKinds.Names).Order(StringComparer.Ordinal).ToList();

        Assert.True(missing.Count == 0, $"Add a line to EvidenceKinds.All for: {string.Join(", ", missing)}");
        Assert.Superset(new HashSet<string>(StringComparer.Ordinal)
        {
            nameof(ProposalSubmitted), nameof(ProposalStateChanged), nameof(ProposalTransitionRefused), nameof(ProposalSubmissionRefused),
            nameof(ImpactAssessed), nameof(PolicyDecided), nameof(ApprovalRecorded), nameof(PolicyBundleActivated), nameof(GraphChanged),
            nameof(WorkRequested), nameof(WorkPackageIssued), nameof(WorkCompleted), nameof(WorkRefused), nameof(PrincipalChanged),
            nameof(PrincipalRevoked), nameof(RoleBindingChanged), nameof(FleetCapabilitiesChanged), nameof(SigningKeyPublished),
        }, events);
    }

    [Fact]
    public void Kinds_are_listed_once()
    {
        Assert.Equal(EvidenceKinds.All.Count, EvidenceKinds.Names.Count);
    }

    [Fact]
    public void Each_kind_files_the_record_under_the_events_proposal_and_time()
    {
        var proposalId = Guid.NewGuid();
        var at = new DateTimeOffset(2026, 11, 21, 9, 30, 0, TimeSpan.Zero);
        var approval = EvidenceKinds.Of<ApprovalRecorded>().Draft(new ApprovalRecorded(proposalId, "alice@example.com", "Alice", ApprovalDecision.Approve,
            null, "sha256:00", 7, "sha256:11", at));
        var key = EvidenceKinds.Of<SigningKeyPublished>().Draft(new SigningKeyPublished("fleet", "fleet", "fleet-key-1", "AAAA", at));
        var refused = EvidenceKinds.Of<WorkRefused>().Draft(new WorkRefused(null, null, "runner-1", "bad signature", at));

        Assert.Equal((nameof(ApprovalRecorded), (Guid?)proposalId, "alice@example.com", at), (approval.Kind, approval.ProposalId, approval.Actor, approval.OccurredAt));
        Assert.Equal((nameof(SigningKeyPublished), (Guid?)null, "fleet"), (key.Kind, key.ProposalId, key.Actor));
        Assert.Equal((nameof(WorkRefused), (Guid?)null, "runner-1"), (refused.Kind, refused.ProposalId, refused.Actor));
    }

    private static bool IsRecord(Type type) => type.GetMethod("<Clone>$") is not null;

    private static bool IsTimestamped(Type type) =>
        type.GetProperties().Any(p => p.PropertyType == typeof(DateTimeOffset) || p.PropertyType == typeof(DateTimeOffset?));

    private static bool IsProposalEvent(Type type) =>
        type.GetProperty("ProposalId")?.PropertyType == typeof(Guid) && type.GetProperties().Any(p => p.PropertyType == typeof(DateTimeOffset));

    private static IEnumerable<Type> Flatten(Type type) =>
        type.IsGenericType ? type.GetGenericArguments().SelectMany(Flatten).Prepend(type) : [type];
}
