using ControlPlane.SystemGraph.Graph;

namespace ControlPlane.SystemGraph.Catalog;

/// <summary>A node or edge as stored, with the import that owns it (null: written through the API or the seed).</summary>
public sealed record SourcedNode(GraphNode Node, string? Source);

public sealed record SourcedEdge(GraphEdge Edge, string? Source);

/// <summary>A node the import changes: before, after, and the fields that differ ("source" when the import adopts it).</summary>
public sealed record NodeChange(string Id, GraphNode Before, GraphNode After, IReadOnlyList<string> Fields);

/// <summary>What an import does to the graph. Changed edges are existing edges the import adopts (edges have no attributes).</summary>
public sealed record CatalogDiff(
    IReadOnlyList<GraphNode> AddedNodes,
    IReadOnlyList<GraphEdge> AddedEdges,
    IReadOnlyList<NodeChange> ChangedNodes,
    IReadOnlyList<GraphEdge> ChangedEdges,
    IReadOnlyList<GraphNode> RemovedNodes,
    IReadOnlyList<GraphEdge> RemovedEdges)
{
    public bool IsEmpty => AddedNodes.Count + AddedEdges.Count + ChangedNodes.Count + ChangedEdges.Count + RemovedNodes.Count + RemovedEdges.Count == 0;

    /// <summary>What the version log records: the ids of every node and edge the import touched.</summary>
    public object Summary => new
    {
        added = new { nodes = AddedNodes.Select(n => n.Id), edges = AddedEdges.Select(e => e.ToString()) },
        changed = new { nodes = ChangedNodes.Select(c => new { c.Id, c.Fields }), edges = ChangedEdges.Select(e => e.ToString()) },
        removed = new { nodes = RemovedNodes.Select(n => n.Id), edges = RemovedEdges.Select(e => e.ToString()) },
    };

    /// <summary>
    /// The catalog is the truth for what <paramref name="source"/> owns: its nodes and edges are added, updated or
    /// adopted, and what an earlier import of the same source wrote but the catalog no longer names is removed (with
    /// every edge that touches a removed node). Nodes and edges written by hand are never removed by an import.
    /// </summary>
    public static CatalogDiff Compute(string source, IReadOnlyList<SourcedNode> current, IReadOnlyList<SourcedEdge> currentEdges, CatalogGraph desired)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(currentEdges);
        ArgumentNullException.ThrowIfNull(desired);
        var byId = current.ToDictionary(n => n.Node.Id, StringComparer.Ordinal);
        var wanted = desired.Nodes.Select(n => n.Id).ToHashSet(StringComparer.Ordinal);
        var added = new List<GraphNode>();
        var changed = new List<NodeChange>();
        foreach (var node in desired.Nodes)
        {
            if (!byId.TryGetValue(node.Id, out var existing))
            {
                added.Add(node);
            }
            else if (ChangedFields(existing.Node, node, existing.Source == source) is { Count: > 0 } fields)
            {
                changed.Add(new NodeChange(node.Id, existing.Node, node, fields));
            }
        }

        var removed = current.Where(n => n.Source == source && !wanted.Contains(n.Node.Id)).Select(n => n.Node).ToList();
        var removedIds = removed.Select(n => n.Id).ToHashSet(StringComparer.Ordinal);
        var edgeSet = currentEdges.ToDictionary(e => e.Edge, e => e.Source);
        var wantedEdges = desired.Edges.ToHashSet();
        var removedEdges = currentEdges
            .Where(e => removedIds.Contains(e.Edge.From) || removedIds.Contains(e.Edge.To) || (e.Source == source && !wantedEdges.Contains(e.Edge)))
            .Select(e => e.Edge).ToList();
        return new CatalogDiff(added, [.. desired.Edges.Where(e => !edgeSet.ContainsKey(e))], changed,
            [.. desired.Edges.Where(e => edgeSet.TryGetValue(e, out var s) && s != source)], removed, removedEdges);
    }

    private static List<string> ChangedFields(GraphNode before, GraphNode after, bool owned)
    {
        var fields = new List<string>();
        void Check(bool same, string field)
        {
            if (!same)
            {
                fields.Add(field);
            }
        }

        Check(before.Kind == after.Kind, "kind");
        Check(before.Name == after.Name, "name");
        Check(before.Team == after.Team, "team");
        Check(before.CriticalityTier == after.CriticalityTier, "criticalityTier");
        Check(before.RevenuePath == after.RevenuePath, "revenuePath");
        Check(before.DataClasses.Order(StringComparer.Ordinal).SequenceEqual(after.DataClasses.Order(StringComparer.Ordinal), StringComparer.Ordinal), "dataClasses");
        Check(before.InternetExposed == after.InternetExposed, "internetExposed");
        Check(SuiteSet.Equal(before.SuitesOrEmpty, after.SuitesOrEmpty), "suites");
        Check(owned, "source");
        return fields;
    }
}
