using ControlPlane.Contracts;

namespace ControlPlane.Orchestrator.Proposals;

/// <summary>An affected node that outside traffic can reach, and the shortest way in (entry first; null when unknown).</summary>
public sealed record ReachableNode(string NodeId, int CriticalityTier, IReadOnlyList<string> DataClasses, IReadOnlyList<string>? Path);

/// <summary>
/// The reachable subset of a proposal's impact and the rank the approvals inbox orders by. Known: false when the
/// impact carried no reachability (assessed before it existed, or no assessment yet): every affected node then counts
/// as reachable (fail closed).
/// </summary>
public sealed record Reachability(string Rank, bool Known, IReadOnlyList<ReachableNode> Nodes, string Reason);

/// <summary>Reachable risk of an impact, without I/O: reachable regulated or critical first, then reachable, then unreachable.</summary>
public static class ReachableRisk
{
    public const string ReachableCritical = "reachable-critical";
    public const string Reachable = "reachable";
    public const string Unreachable = "unreachable";

    /// <summary>Data classes that make a reachable node the first thing a human looks at.</summary>
    public static readonly IReadOnlyList<string> SensitiveDataClasses = ["regulated", "pci", "pii"];

    /// <summary>Sort key of a rank: lower comes first in the inbox.</summary>
    public static int Order(string rank) => rank switch
    {
        ReachableCritical => 0,
        Reachable => 1,
        _ => 2,
    };

    public static Reachability Of(ImpactReport? impact)
    {
        if (impact is null)
        {
            return new Reachability(ReachableCritical, false, [], "no impact assessment yet: treated as reachable and critical (fail closed)");
        }

        if (impact.TargetNodes is null)
        {
            // Reachability unknown: everything affected counts as reachable, ranked by what the impact says it touches.
            var nodes = impact.Targets.Except(impact.UnknownTargets, StringComparer.Ordinal)
                .Select(t => new ReachableNode(t, impact.HighestCriticality ?? 3, impact.DataClasses, null))
                .Concat(impact.Dependents.Select(d => new ReachableNode(d.NodeId, d.CriticalityTier, d.DataClasses, null)))
                .DistinctBy(n => n.NodeId, StringComparer.Ordinal)
                .ToList();
            var critical = impact.HighestCriticality == 0 || impact.DataClasses.Any(IsSensitive);
            return new Reachability(critical ? ReachableCritical : Reachable, false, nodes,
                "the impact does not say what is reachable: every affected node counts as reachable (fail closed)");
        }

        var reachable = impact.TargetNodes.Concat(impact.Dependents)
            .Where(n => n.Reachable)
            .DistinctBy(n => n.NodeId, StringComparer.Ordinal)
            .Select(n => new ReachableNode(n.NodeId, n.CriticalityTier, n.DataClasses, n.ReachablePath))
            .ToList();
        if (reachable.Count == 0)
        {
            return new Reachability(Unreachable, true, [], "no affected node is reachable from outside");
        }

        var sensitive = reachable.Where(n => n.CriticalityTier == 0 || n.DataClasses.Any(IsSensitive)).Select(n => n.NodeId).ToList();
        return sensitive.Count > 0
            ? new Reachability(ReachableCritical, true, reachable, $"reachable from outside and critical or regulated: {string.Join(", ", sensitive)}")
            : new Reachability(Reachable, true, reachable, $"reachable from outside: {string.Join(", ", reachable.Select(n => n.NodeId))}");
    }

    private static bool IsSensitive(string dataClass) => SensitiveDataClasses.Contains(dataClass, StringComparer.OrdinalIgnoreCase);
}
