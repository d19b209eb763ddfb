namespace ControlPlane.SystemGraph.Graph;

/// <summary>The body of PUT /graph/nodes/{id} (and of a seed node): nullable so a missing field can be named.</summary>
public sealed record NodeBody(
    string? Kind,
    string? Name,
    string? Team,
    int? CriticalityTier,
    bool? RevenuePath,
    IReadOnlyList<string>? DataClasses,
    bool? InternetExposed);

/// <summary>The body of PUT /graph/edges: "from depends on to".</summary>
public sealed record EdgeBody(string? From, string? To, string? Kind);

/// <summary>Turns request bodies into graph records, or says what is wrong with each field (RFC 9457 errors shape).</summary>
public static class GraphValidation
{
    public static GraphNode? ToNode(string id, NodeBody body, IDictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(errors);
        if (!GraphVocabulary.IsSlug(id))
        {
            errors["id"] = [$"'{id}' is not a node id: use lowercase letters, digits and inner hyphens, 1 to 63 characters (e.g. 'ledger-db')."];
        }

        if (body.Kind is null || !GraphVocabulary.NodeKinds.Contains(body.Kind))
        {
            errors["kind"] = [$"kind is required and must be one of {string.Join(", ", GraphVocabulary.NodeKinds.Order(StringComparer.Ordinal))}."];
        }

        if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Length > GraphVocabulary.MaxNameLength)
        {
            errors["name"] = [$"name is required (1 to {GraphVocabulary.MaxNameLength} characters)."];
        }

        if (!GraphVocabulary.IsSlug(body.Team))
        {
            errors["team"] = ["team is required: the owning team's slug (e.g. 'payments')."];
        }

        if (body.CriticalityTier is not (>= GraphVocabulary.MostCriticalTier and <= GraphVocabulary.LeastCriticalTier))
        {
            errors["criticalityTier"] = [$"criticalityTier is required: {GraphVocabulary.MostCriticalTier} (most critical) to {GraphVocabulary.LeastCriticalTier}."];
        }

        var dataClasses = body.DataClasses ?? [];
        var badClasses = dataClasses.Where(c => !GraphVocabulary.IsSlug(c)).ToList();
        if (badClasses.Count > 0)
        {
            errors["dataClasses"] = [$"data classes are slugs such as 'regulated', 'pci', 'pii', 'public'; not: {string.Join(", ", badClasses.Select(c => $"'{c}'"))}."];
        }

        return errors.Count > 0
            ? null
            : new GraphNode(id, body.Kind!, body.Name!.Trim(), body.Team!, body.CriticalityTier!.Value, body.RevenuePath ?? false,
                [.. dataClasses.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)], body.InternetExposed ?? false);
    }

    public static GraphEdge? ToEdge(EdgeBody body, IDictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(errors);
        CheckEndpoints(body.From, body.To, errors);
        if (body.Kind is null || !GraphVocabulary.EdgeKinds.Contains(body.Kind))
        {
            errors["kind"] = [$"kind is required and must be one of {string.Join(", ", GraphVocabulary.EdgeKinds.Order(StringComparer.Ordinal))}."];
        }

        return errors.Count > 0 ? null : new GraphEdge(body.From!, body.To!, body.Kind!);
    }

    /// <summary>from and to are node ids and differ (a node does not depend on itself).</summary>
    public static void CheckEndpoints(string? from, string? to, IDictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (!GraphVocabulary.IsSlug(from))
        {
            errors["from"] = ["from is required: the id of the node that depends on 'to'."];
        }

        if (!GraphVocabulary.IsSlug(to))
        {
            errors["to"] = ["to is required: the id of the node 'from' depends on."];
        }
        else if (string.Equals(from, to, StringComparison.Ordinal))
        {
            errors["to"] = ["to must differ from from: a node does not depend on itself."];
        }
    }

    /// <summary>Splits "a,b" (and repeated parameters) into distinct trimmed ids.</summary>
    public static IReadOnlyList<string> SplitTargets(IEnumerable<string?> values) =>
        [.. values.SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Distinct(StringComparer.Ordinal)];
}
