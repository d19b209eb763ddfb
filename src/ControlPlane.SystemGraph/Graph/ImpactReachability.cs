using System.Globalization;
using ControlPlane.Contracts;

namespace ControlPlane.SystemGraph.Graph;

/// <summary>
/// The impact assessment the plane uses: <see cref="ImpactAnalyzer"/>'s blast radius, then a second pass that adds
/// what the graph version knows beyond it: for each dependent the flow of the edge that reaches it, whether outside
/// traffic reaches it and by which shortest path, and the suites it declares; the known targets as depth-0 nodes
/// (TargetNodes, so consumers know reachability was assessed); and a reason per target saying whether it is
/// reachable. Pure: the snapshot is immutable and its reachability computed once per version.
/// </summary>
public static class ImpactReachability
{
    public static ImpactReport Assess(GraphSnapshot graph, IEnumerable<string> targets, DateTimeOffset assessedAt) =>
        Enrich(graph, ImpactAnalyzer.Assess(graph, targets, assessedAt));

    public static ImpactReport Enrich(GraphSnapshot graph, ImpactReport report)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(report);
        var reachability = graph.Reachability;
        var dependents = new ImpactedNode[report.Dependents.Count];
        var reachableDependents = 0;
        for (var i = 0; i < dependents.Length; i++)
        {
            var dependent = report.Dependents[i];
            if (!graph.TryGetIndex(dependent.NodeId, out var index))
            {
                dependents[i] = dependent;
                continue;
            }

            string? flow = null;
            if (dependent.Path.Count >= 2 && graph.TryGetIndex(dependent.Path[^2], out var dependency))
            {
                flow = reachability.FlowOf(index, dependency);
            }

            var reachable = reachability.IsReachable(index);
            reachableDependents += reachable ? 1 : 0;
            dependents[i] = dependent with
            {
                Flow = flow,
                Reachable = reachable,
                ReachablePath = reachability.PathTo(index),
                Suites = SuitesOf(graph[index]),
            };
        }

        var targetNodes = new List<ImpactedNode>();
        var reasons = new List<string>(report.Reasons);
        foreach (var id in report.Targets)
        {
            if (!graph.TryGetIndex(id, out var index))
            {
                continue;
            }

            var node = graph[index];
            var path = reachability.PathTo(index);
            targetNodes.Add(new ImpactedNode(node.Id, 0, [node.Id], node.CriticalityTier, node.Team, node.RevenuePath, node.DataClasses,
                node.InternetExposed, Reachable: path is not null, ReachablePath: path, Suites: SuitesOf(node)));
            if (targetNodes.Count <= ImpactAnalyzer.ListedPerReason)
            {
                reasons.Add(path is null
                    ? $"target {node.Id} is not reachable from outside: no entry's traffic reaches it"
                    : path.Count == 1
                        ? $"target {node.Id} accepts outside traffic"
                        : $"target {node.Id} is reachable from outside via {string.Join(" → ", path)}");
            }
        }

        if (dependents.Length > 0)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"{reachableDependents} of {dependents.Length} dependents reachable from outside"));
        }

        return report with { Dependents = dependents, TargetNodes = targetNodes, Reasons = reasons };
    }

    private static IReadOnlyList<ValidationSuite>? SuitesOf(GraphNode node) => node.Suites is { Count: > 0 } suites ? suites : null;
}
