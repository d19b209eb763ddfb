using System.Text.Json.Nodes;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// The reachable subset of an impact (ImpactReport JSON) as lines for a person: each affected node outside traffic
/// reaches with its shortest path, entry first, then how many are not reached. A report without targetNodes was made
/// without reachability: it says so, as policy counts it reachable.
/// </summary>
public static class ImpactReachabilityView
{
    public const int Listed = 8;

    public static IReadOnlyList<string> Lines(JsonObject impact)
    {
        ArgumentNullException.ThrowIfNull(impact);
        if (impact["targetNodes"] is not JsonArray targets)
        {
            return ["reachability unknown (assessed without it): counted as reachable"];
        }

        var affected = targets.Concat(impact["dependents"]?.AsArray() ?? []).OfType<JsonObject>().ToList();
        var reachable = affected.Where(n => n["reachable"]?.GetValue<bool>() == true).ToList();
        var lines = reachable.Take(Listed).Select(n =>
            $"{n["nodeId"]}: via {string.Join(" → ", n["reachablePath"]?.AsArray().Select(p => p!.ToString()) ?? [])}").ToList();
        if (reachable.Count > Listed)
        {
            lines.Add($"and {reachable.Count - Listed} more reachable");
        }

        lines.Add(reachable.Count == 0
            ? $"none of the {affected.Count} affected nodes is reachable from outside"
            : $"{affected.Count - reachable.Count} of {affected.Count} affected nodes not reachable from outside");
        return lines;
    }
}
