using System.Globalization;
using ControlPlane.Contracts;
using ControlPlane.SystemGraph.Graph;

namespace ControlPlane.SystemGraph.Catalog;

/// <summary>The graph a catalog describes: the nodes and edges it owns, and notes (defaults taken, entities skipped).</summary>
public sealed record CatalogGraph(IReadOnlyList<GraphNode> Nodes, IReadOnlyList<GraphEdge> Edges, IReadOnlyList<string> Warnings);

/// <summary>
/// Maps Backstage entities to the graph. Components and Resources become nodes; Groups are teams (ownedBy);
/// Systems group components (partOf) and are checked, not drawn; APIs become edges: a component that consumes an
/// API depends on ("calls") every component that provides it. The controlplane.io annotations carry what Backstage
/// has no field for. Pure, so the demo catalog and every error are unit-tested.
/// </summary>
public static class BackstageMapper
{
    public const string Prefix = "controlplane.io/";
    public const string NodeIdAnnotation = Prefix + "node-id";
    public const string KindAnnotation = Prefix + "kind";
    public const string TierAnnotation = Prefix + "tier";
    public const string DataClassesAnnotation = Prefix + "data-classes";
    public const string RevenuePathAnnotation = Prefix + "revenue-path";
    public const string InternetExposedAnnotation = Prefix + "internet-exposed";
    public const string DependencyKindsAnnotation = Prefix + "dependency-kinds";
    public const string DependencyFlowsAnnotation = Prefix + "dependency-flows";
    public const string ValidationSuitesAnnotation = Prefix + "validation-suites";

    /// <summary>The tier a node gets when the catalog does not say (least critical), always with a warning.</summary>
    public const int DefaultTier = GraphVocabulary.LeastCriticalTier;

    private static readonly Dictionary<string, string> ResourceKinds = new(StringComparer.OrdinalIgnoreCase)
    {
        ["database"] = "datastore", ["datastore"] = "datastore", ["storage"] = "datastore", ["s3-bucket"] = "datastore", ["cache"] = "datastore",
        ["search-index"] = "datastore", ["queue"] = "queue", ["topic"] = "queue", ["kafka-topic"] = "queue", ["message-queue"] = "queue",
    };

    /// <summary>Reads and maps a catalog's files: the graph with every warning, or every problem (none is mapped while a file is unreadable).</summary>
    public static (CatalogGraph? Graph, IReadOnlyList<CatalogProblem> Problems) Load(IEnumerable<CatalogFile> files)
    {
        var read = BackstageCatalogReader.Read(files);
        if (read.Problems.Count > 0)
        {
            return (null, read.Problems);
        }

        var (graph, problems) = Map(read.Entities);
        return (graph is null ? null : graph with { Warnings = [.. read.Warnings, .. graph.Warnings] }, problems);
    }

    public static (CatalogGraph? Graph, IReadOnlyList<CatalogProblem> Problems) Map(IReadOnlyList<BackstageEntity> entities)
    {
        ArgumentNullException.ThrowIfNull(entities);
        var problems = new List<CatalogProblem>();
        var warnings = new List<string>();
        var byRef = new Dictionary<EntityRef, BackstageEntity>();
        foreach (var entity in entities)
        {
            if (byRef.TryGetValue(entity.Ref, out var first))
            {
                problems.Add(Problem(entity, entity.Line, "metadata.name", $"{entity.Label} is defined twice (first in {first.File}:{first.Line})."));
                continue;
            }

            byRef[entity.Ref] = entity;
        }

        // Groups are the teams that own nodes; their name is the team slug.
        foreach (var group in byRef.Values.Where(e => e.Kind == "group" && !GraphVocabulary.IsSlug(e.Ref.Name)))
        {
            problems.Add(Problem(group, group.Line, "metadata.name", $"'{group.Ref.Name}' is used as a team slug: lowercase letters, digits and inner hyphens."));
        }

        foreach (var owned in byRef.Values.Where(e => e.Kind is "system" or "api" or "component" or "resource"))
        {
            CheckRef(owned, owned.Owner, "spec.owner", "group", byRef, problems, required: true, allowed: "group");
        }

        // Nodes.
        var nodeIds = new Dictionary<EntityRef, string>();
        var nodes = new List<GraphNode>();
        var ids = new Dictionary<string, BackstageEntity>(StringComparer.Ordinal);
        foreach (var entity in byRef.Values.Where(e => e.Kind is "component" or "resource"))
        {
            CheckRef(entity, entity.System, "spec.system", "system", byRef, problems, required: false, allowed: "system");
            if (ToNode(entity, byRef, problems, warnings) is not { } node)
            {
                continue;
            }

            if (ids.TryGetValue(node.Id, out var clash))
            {
                problems.Add(Problem(entity, entity.Line, NodeIdAnnotation, $"node id '{node.Id}' is also {clash.Label}'s ({clash.File}:{clash.Line})."));
                continue;
            }

            ids[node.Id] = entity;
            nodeIds[entity.Ref] = node.Id;
            nodes.Add(node);
        }

        // Edges: dependsOn directly, consumesApis through the components that provide the API.
        var providers = new Dictionary<EntityRef, List<EntityRef>>();
        foreach (var entity in byRef.Values.Where(e => e.Kind is "component" or "resource"))
        {
            foreach (var (value, line) in entity.ProvidesApis.Items)
            {
                if (CheckItem(entity, value, line, "spec.providesApis", "api", byRef, problems, "api") is { } api)
                {
                    (providers.TryGetValue(api, out var list) ? list : providers[api] = []).Add(entity.Ref);
                }
            }
        }

        var edges = new List<GraphEdge>();
        foreach (var entity in byRef.Values.Where(e => e.Kind is "component" or "resource"))
        {
            var dependencies = new List<(EntityRef Target, int Line)>();
            foreach (var (value, line) in entity.DependsOn.Items)
            {
                if (CheckItem(entity, value, line, "spec.dependsOn", "component", byRef, problems, "component", "resource") is { } target)
                {
                    dependencies.Add((target, line));
                }
            }

            foreach (var (value, line) in entity.ConsumesApis.Items)
            {
                if (CheckItem(entity, value, line, "spec.consumesApis", "api", byRef, problems, "api") is not { } api)
                {
                    continue;
                }

                if (!providers.TryGetValue(api, out var provided))
                {
                    warnings.Add($"{entity.File}:{line}: {entity.Label} consumes {api}, which no component in the catalog provides: no edge.");
                    continue;
                }

                dependencies.AddRange(provided.Where(p => p != entity.Ref).Select(p => (p, line)));
            }

            if (!nodeIds.TryGetValue(entity.Ref, out var from))
            {
                continue; // its node had problems, already reported
            }

            var kinds = DependencyPairs(entity, DependencyKindsAnnotation, GraphVocabulary.EdgeKinds.Order(StringComparer.Ordinal).ToList(), problems);
            var flows = DependencyPairs(entity, DependencyFlowsAnnotation, EdgeFlows.All, problems);
            var targets = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (target, _) in dependencies)
            {
                if (nodeIds.TryGetValue(target, out var to) && to != from && targets.Add(to))
                {
                    var toKind = nodes.First(n => n.Id == to).Kind;
                    edges.Add(new GraphEdge(from, to, kinds.TryGetValue(to, out var k) ? k.Value : DefaultEdgeKind(toKind),
                        flows.TryGetValue(to, out var f) ? f.Value : null));
                }
            }

            foreach (var (annotation, pairs) in new[] { (DependencyKindsAnnotation, kinds), (DependencyFlowsAnnotation, flows) })
            {
                foreach (var (target, (_, line)) in pairs.Where(k => !targets.Contains(k.Key)))
                {
                    problems.Add(Problem(entity, line, annotation, $"names '{target}', which {entity.Label} does not depend on (dependsOn or consumesApis)."));
                }
            }
        }

        return problems.Count > 0
            ? (null, problems)
            : (new CatalogGraph([.. nodes.OrderBy(n => n.Id, StringComparer.Ordinal)],
                [.. edges.OrderBy(e => e.From, StringComparer.Ordinal).ThenBy(e => e.To, StringComparer.Ordinal).ThenBy(e => e.Kind, StringComparer.Ordinal)], warnings), []);
    }

    /// <summary>What "depends on" means when the catalog does not say: reading a datastore, consuming a queue, calling anything else.</summary>
    public static string DefaultEdgeKind(string targetNodeKind) => targetNodeKind switch
    {
        "datastore" => "reads",
        "queue" => "consumes",
        _ => "calls",
    };

    private static GraphNode? ToNode(BackstageEntity entity, Dictionary<EntityRef, BackstageEntity> byRef, List<CatalogProblem> problems, List<string> warnings)
    {
        var count = problems.Count;
        var a = entity.Annotations;
        var id = a.TryGetValue(NodeIdAnnotation, out var idValue) ? idValue.Value.Trim() : entity.Ref.Name;
        if (!GraphVocabulary.IsSlug(id))
        {
            problems.Add(Problem(entity, a.TryGetValue(NodeIdAnnotation, out var l) ? l.Line : entity.Line, a.ContainsKey(NodeIdAnnotation) ? NodeIdAnnotation : "metadata.name",
                $"'{id}' is not a node id: lowercase letters, digits and inner hyphens, 1 to 63 characters (set {NodeIdAnnotation} to map it)."));
        }

        string? kind;
        if (a.TryGetValue(KindAnnotation, out var kindValue))
        {
            kind = kindValue.Value.Trim();
            if (!GraphVocabulary.NodeKinds.Contains(kind))
            {
                problems.Add(Problem(entity, kindValue.Line, KindAnnotation, $"must be one of {string.Join(", ", GraphVocabulary.NodeKinds.Order(StringComparer.Ordinal))}."));
            }
        }
        else if (entity.Kind == "component")
        {
            kind = "service";
        }
        else if (entity.SpecType is { } type && ResourceKinds.TryGetValue(type, out var mapped))
        {
            kind = mapped;
        }
        else
        {
            kind = null;
            problems.Add(Problem(entity, entity.Line, "spec.type",
                $"resource type '{entity.SpecType}' has no node kind: use one of {string.Join(", ", ResourceKinds.Keys.Order(StringComparer.Ordinal))} or set {KindAnnotation}."));
        }

        var tier = DefaultTier;
        if (a.TryGetValue(TierAnnotation, out var tierValue))
        {
            if (!int.TryParse(tierValue.Value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out tier) ||
                tier is < GraphVocabulary.MostCriticalTier or > GraphVocabulary.LeastCriticalTier)
            {
                problems.Add(Problem(entity, tierValue.Line, TierAnnotation, $"'{tierValue.Value}' is not a tier: {GraphVocabulary.MostCriticalTier} (most critical) to {GraphVocabulary.LeastCriticalTier}."));
            }
        }
        else
        {
            warnings.Add($"{entity.File}:{entity.Line}: {entity.Label} has no {TierAnnotation}: tier {DefaultTier} (least critical) assumed.");
        }

        var classes = a.TryGetValue(DataClassesAnnotation, out var classValue)
            ? classValue.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : [];
        if (classes.FirstOrDefault(c => !GraphVocabulary.IsSlug(c)) is { } badClass)
        {
            problems.Add(Problem(entity, classValue.Line, DataClassesAnnotation, $"'{badClass}' is not a data class: comma-separated slugs such as 'regulated, pci'."));
        }

        var revenue = Flag(entity, RevenuePathAnnotation, problems);
        var exposed = Flag(entity, InternetExposedAnnotation, problems);
        var team = entity.Owner is { } owner && EntityRef.Parse(owner.Value, "group") is { Kind: "group" } group && byRef.ContainsKey(group) ? group.Name : null;
        var name = string.IsNullOrWhiteSpace(entity.Title) ? entity.Ref.Name : entity.Title.Trim();
        if (name.Length > GraphVocabulary.MaxNameLength)
        {
            problems.Add(Problem(entity, entity.Line, "metadata.title", $"at most {GraphVocabulary.MaxNameLength} characters."));
        }

        var suites = CatalogSuites.Read(entity, problems);
        return problems.Count > count || kind is null || team is null
            ? null
            : new GraphNode(id, kind, name, team, tier, revenue, [.. classes.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)], exposed,
                suites.Count == 0 ? null : suites);
    }

    private static bool Flag(BackstageEntity entity, string annotation, List<CatalogProblem> problems)
    {
        if (!entity.Annotations.TryGetValue(annotation, out var value))
        {
            return false;
        }

        if (bool.TryParse(value.Value.Trim(), out var flag))
        {
            return flag;
        }

        problems.Add(Problem(entity, value.Line, annotation, $"'{value.Value}' is not 'true' or 'false'."));
        return false;
    }

    /// <summary>
    /// "ledger-db=writes, invoices-queue=publishes" (dependency-kinds) or "ledger-db=data-write" (dependency-flows): a
    /// value per dependency (node id), with the annotation's line.
    /// </summary>
    private static Dictionary<string, (string Value, int Line)> DependencyPairs(BackstageEntity entity, string annotation, IReadOnlyList<string> allowed,
        List<CatalogProblem> problems)
    {
        var pairs = new Dictionary<string, (string, int)>(StringComparer.Ordinal);
        if (!entity.Annotations.TryGetValue(annotation, out var value))
        {
            return pairs;
        }

        var what = annotation == DependencyKindsAnnotation ? "kind" : "flow";
        foreach (var pair in value.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !GraphVocabulary.IsSlug(parts[0]) || !allowed.Contains(parts[1], StringComparer.Ordinal))
            {
                problems.Add(Problem(entity, value.Line, annotation, $"'{pair}' is not 'node-id={what}' with {what} one of {string.Join(", ", allowed)}."));
                continue;
            }

            pairs[parts[0]] = (parts[1], value.Line);
        }

        return pairs;
    }

    private static void CheckRef(BackstageEntity entity, (string Value, int Line)? field, string name, string defaultKind,
        Dictionary<EntityRef, BackstageEntity> byRef, List<CatalogProblem> problems, bool required, params string[] allowed)
    {
        if (field is { } f)
        {
            CheckItem(entity, f.Value, f.Line, name, defaultKind, byRef, problems, allowed);
        }
        else if (required)
        {
            problems.Add(Problem(entity, entity.Line, name, $"{name} is required: the owning group, e.g. 'group:payments'."));
        }
    }

    /// <summary>Resolves one ref of a field; a problem when it is malformed, of the wrong kind, or not in the catalog.</summary>
    private static EntityRef? CheckItem(BackstageEntity entity, string value, int line, string field, string defaultKind,
        Dictionary<EntityRef, BackstageEntity> byRef, List<CatalogProblem> problems, params string[] allowed)
    {
        if (EntityRef.Parse(value, defaultKind) is not { } target)
        {
            problems.Add(Problem(entity, line, field, $"'{value}' is not an entity ref ([kind:][namespace/]name)."));
            return null;
        }

        if (!allowed.Contains(target.Kind, StringComparer.Ordinal))
        {
            problems.Add(Problem(entity, line, field, $"'{value}' must name a {string.Join(" or ", allowed)}."));
            return null;
        }

        if (!byRef.ContainsKey(target))
        {
            problems.Add(Problem(entity, line, field, $"unknown ref '{target}': no such entity in the imported catalog."));
            return null;
        }

        return target;
    }

    internal static CatalogProblem Problem(BackstageEntity entity, int line, string field, string message) =>
        new(entity.File, line, entity.Label, field, message);
}
