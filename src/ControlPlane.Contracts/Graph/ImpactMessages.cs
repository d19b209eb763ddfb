namespace ControlPlane.Contracts;

/// <summary>A node reached from a target by following "depends on" edges backwards: who breaks if it breaks.</summary>
public sealed record ImpactedNode(
    string NodeId,
    int Depth,
    IReadOnlyList<string> Path,
    int CriticalityTier,
    string? Team,
    bool RevenuePath,
    IReadOnlyList<string> DataClasses,
    bool InternetExposed);

/// <summary>
/// The blast radius of a proposal against one graph version. Tier 0 is the most critical; HighestCriticality
/// is the lowest tier number touched (null when nothing known is touched). Unknown targets are a reason, not
/// an error. DriftDetected: a target was deployed in the proposal's environment outside the plane (a CI/CD event with
/// no governed change behind it) and no governed change has completed on it since DriftSince.
/// </summary>
public sealed record ImpactReport(
    long GraphVersion,
    IReadOnlyList<string> Targets,
    IReadOnlyList<ImpactedNode> Dependents,
    int? HighestCriticality,
    IReadOnlyList<string> DataClasses,
    bool RevenuePath,
    bool InternetExposed,
    IReadOnlyList<string> Teams,
    IReadOnlyList<string> UnknownTargets,
    IReadOnlyList<string> Reasons,
    DateTimeOffset AssessedAt,
    bool DriftDetected = false,
    DateTimeOffset? DriftSince = null);

/// <summary>Event: system-graph assessed a submitted proposal. Carries the proposal so policy decides on facts alone.</summary>
public sealed record ImpactAssessed(Guid ProposalId, ProposalSubmitted Proposal, ImpactReport Impact);

/// <summary>Event: the system graph changed (a node or edge was written); Version increases by one per change.</summary>
public sealed record GraphChanged(long Version, string Change, string NodeOrEdge, string ChangedBy, DateTimeOffset At);
