using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;

namespace ControlPlane.Policy.Validation;

/// <summary>
/// The reachability facts of an impact report: whether outside traffic reaches any affected node (targets and
/// dependents), the data classes of the reachable ones and how many dependents are reachable. A report without
/// TargetNodes was made before reachability existed (or by hand): the facts stay null, read as wholly reachable.
/// </summary>
public static class ReachabilityFacts
{
    public static PolicyFacts Add(PolicyFacts facts, ImpactReport impact)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(impact);
        if (impact.TargetNodes is not { } targets)
        {
            return facts with { Impact = impact };
        }

        var reachable = targets.Concat(impact.Dependents ?? []).Where(n => n.Reachable).ToList();
        return facts with
        {
            Reachable = reachable.Count > 0,
            ReachableDataClasses = [.. reachable.SelectMany(n => n.DataClasses ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            ReachableDependents = (impact.Dependents ?? []).Count(n => n.Reachable),
            Impact = impact,
        };
    }

    /// <summary>Unknown reachability fails closed: everything the impact touches counts as reachable.</summary>
    public static bool IsReachable(PolicyFacts facts) => facts.Reachable ?? true;

    public static IReadOnlyList<string> DataClasses(PolicyFacts facts) => facts.ReachableDataClasses ?? facts.DataClasses;

    public static int Dependents(PolicyFacts facts) => facts.ReachableDependents ?? facts.Dependents;

    public static string Unknown(PolicyFacts facts) => facts.Reachable is null ? " (reachability unknown: counted as reachable)" : string.Empty;
}
