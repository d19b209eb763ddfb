using System.Text.Json.Serialization;
using ControlPlane.Contracts;
using ControlPlane.Policy.Validation;

namespace ControlPlane.Policy.Bundles;

/// <summary>
/// What policy decides on: the action, where, who, whether the change can be rolled back, and the impact facts.
/// HighestCriticality is the lowest tier touched (0 most critical), null when no known node is touched.
/// DriftDetected: a target was deployed in this environment outside the plane (CI/CD reported it) since DriftSince.
/// Reachable, ReachableDataClasses, ReachableDependents: the part of the impact outside traffic reaches; null when
/// unknown (a report without reachability), which conditions treat as wholly reachable. Impact: the report itself,
/// from which the validation plan is derived (not part of the facts' JSON). TrackRecord: the agent's verified outcomes
/// for this action kind and environment per window the rules use; null (unknown) counts as none, failing closed.
/// </summary>
public sealed record PolicyFacts(
    string ActionKind,
    string Environment,
    string? AgentId,
    bool RollbackPlanPresent,
    int? HighestCriticality,
    bool RevenuePath,
    IReadOnlyList<string> DataClasses,
    int Dependents,
    bool InternetExposed,
    bool UnknownTargets,
    bool DriftDetected = false,
    DateTimeOffset? DriftSince = null,
    bool? Reachable = null,
    IReadOnlyList<string>? ReachableDataClasses = null,
    int? ReachableDependents = null,
    [property: JsonIgnore] ImpactReport? Impact = null,
    TrackRecordFacts? TrackRecord = null)
{
    public static PolicyFacts From(ProposalSubmitted proposal, ImpactReport impact)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        return From(proposal.Action.Kind, proposal.Environment, proposal.AgentId, !string.IsNullOrWhiteSpace(proposal.Change?.RollbackPlan), impact);
    }

    /// <summary>Facts from an impact report; missing lists (a hand-written report) count as empty.</summary>
    public static PolicyFacts From(string actionKind, string environment, string? agentId, bool rollbackPlanPresent, ImpactReport impact)
    {
        ArgumentNullException.ThrowIfNull(impact);
        return ReachabilityFacts.Add(new PolicyFacts(actionKind, environment, agentId, rollbackPlanPresent, impact.HighestCriticality, impact.RevenuePath,
            impact.DataClasses ?? [], impact.Dependents?.Count ?? 0, impact.InternetExposed, impact.UnknownTargets is { Count: > 0 },
            impact.DriftDetected, impact.DriftSince), impact);
    }
}
