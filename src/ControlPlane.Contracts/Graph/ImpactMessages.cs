using System.Text.Json.Serialization;

namespace ControlPlane.Contracts;

/// <summary>How traffic or data flows along a "depends on" edge (the edge's <c>flow</c>; internal-call when unsaid).</summary>
public static class EdgeFlows
{
    public const string PublicIngress = "public-ingress";
    public const string InternalCall = "internal-call";
    public const string Async = "async";
    public const string DataRead = "data-read";
    public const string DataWrite = "data-write";

    public static readonly IReadOnlyList<string> All = [PublicIngress, InternalCall, Async, DataRead, DataWrite];
}

/// <summary>
/// A validation suite a graph node declares: what a testing fleet runs to show the node still works. Stage: "validate"
/// (before execution, the default when null) or "verify" (after execution, to show the change did what it claimed).
/// </summary>
public sealed record ValidationSuite(string Name, string Fleet, string Covers, int DurationSeconds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Stage = null);

/// <summary>
/// A node reached from a target by following "depends on" edges backwards: who breaks if it breaks. Flow: how the
/// last edge of Path carries traffic. Reachable: the node can be reached from outside (an entry node that accepts
/// outside traffic, then edges that carry traffic); ReachablePath is the shortest such path, entry first. Suites:
/// the validation suites the node declares. The added members are left out of the JSON at their defaults, so hashes
/// of reports made before them hold.
/// </summary>
public sealed record ImpactedNode(
    string NodeId,
    int Depth,
    IReadOnlyList<string> Path,
    int CriticalityTier,
    string? Team,
    bool RevenuePath,
    IReadOnlyList<string> DataClasses,
    bool InternetExposed,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Flow = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Reachable = false,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? ReachablePath = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ValidationSuite>? Suites = null);

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
    DateTimeOffset? DriftSince = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ImpactedNode>? TargetNodes = null);

/// <summary>Event: system-graph assessed a submitted proposal. Carries the proposal so policy decides on facts alone.</summary>
public sealed record ImpactAssessed(Guid ProposalId, ProposalSubmitted Proposal, ImpactReport Impact);

/// <summary>Event: the system graph changed (a node or edge was written); Version increases by one per change.</summary>
public sealed record GraphChanged(long Version, string Change, string NodeOrEdge, string ChangedBy, DateTimeOffset At);
