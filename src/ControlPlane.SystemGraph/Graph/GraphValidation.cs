using System.Globalization;
using ControlPlane.Contracts;

namespace ControlPlane.SystemGraph.Graph;

/// <summary>The body of PUT /graph/nodes/{id} (and of a seed node): nullable so a missing field can be named.</summary>
public sealed record NodeBody(
    string? Kind,
    string? Name,
    string? Team,
    int? CriticalityTier,
    bool? RevenuePath,
    IReadOnlyList<string>? DataClasses,
    bool? InternetExposed,
    IReadOnlyList<SuiteBody?>? Suites = null);

/// <summary>A validation suite as a node body declares it: stage "validate" (the default) or "verify".</summary>
public sealed record SuiteBody(string? Name, string? Fleet, string? Covers, int? DurationSeconds, string? Stage = null);

/// <summary>The body of PUT /graph/edges: "from depends on to"; flow derived from the kind when omitted.</summary>
public sealed record EdgeBody(string? From, string? To, string? Kind, string? Flow = null);

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

        var suites = ToSuites(body.Suites ?? [], "suites", errors);
        return errors.Count > 0
            ? null
            : new GraphNode(id, body.Kind!, body.Name!.Trim(), body.Team!, body.CriticalityTier!.Value, body.RevenuePath ?? false,
                [.. dataClasses.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)], body.InternetExposed ?? false,
                suites.Count == 0 ? null : suites);
    }

    public const int MaxSuitesPerNode = 50;
    public const int MaxSuiteSeconds = 86_400;
    public const int MaxCoversLength = 200;
    public const string ValidateStage = "validate";
    public const string VerifyStage = "verify";

    /// <summary>
    /// Validates declared suites (errors under "field[i].name" and so on) and returns them ordered by name, with the
    /// default stage ("validate") stored as null so the same declaration always compares equal.
    /// </summary>
    public static List<ValidationSuite> ToSuites(IReadOnlyList<SuiteBody?> bodies, string field, IDictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(bodies);
        ArgumentNullException.ThrowIfNull(errors);
        var suites = new List<ValidationSuite>();
        if (bodies.Count > MaxSuitesPerNode)
        {
            errors[field] = [$"a node declares at most {MaxSuitesPerNode} suites."];
            return suites;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < bodies.Count; i++)
        {
            var at = string.Create(CultureInfo.InvariantCulture, $"{field}[{i}]");
            if (bodies[i] is not { } suite)
            {
                errors[at] = ["a suite is an object {name, fleet, covers, durationSeconds, stage?}."];
                continue;
            }

            var count = errors.Count;
            if (!GraphVocabulary.IsSlug(suite.Name))
            {
                errors[at + ".name"] = ["name is required: the suite's slug (e.g. 'billing-api-contract')."];
            }
            else if (!names.Add(suite.Name!))
            {
                errors[at + ".name"] = [$"suite '{suite.Name}' is declared twice on this node."];
            }

            if (!GraphVocabulary.IsSlug(suite.Fleet))
            {
                errors[at + ".fleet"] = ["fleet is required: the slug of the fleet that runs the suite (e.g. 'testing')."];
            }

            if (string.IsNullOrWhiteSpace(suite.Covers) || suite.Covers.Trim().Length > MaxCoversLength)
            {
                errors[at + ".covers"] = [$"covers is required: what the suite shows still works (1 to {MaxCoversLength} characters)."];
            }

            if (suite.DurationSeconds is not (> 0 and <= MaxSuiteSeconds))
            {
                errors[at + ".durationSeconds"] = [$"durationSeconds is required: 1 to {MaxSuiteSeconds}."];
            }

            if (suite.Stage is not (null or ValidateStage or VerifyStage))
            {
                errors[at + ".stage"] = [$"stage is '{ValidateStage}' (before execution, the default) or '{VerifyStage}' (after it), not '{suite.Stage}'."];
            }

            if (errors.Count == count)
            {
                suites.Add(new ValidationSuite(suite.Name!, suite.Fleet!, suite.Covers!.Trim(), suite.DurationSeconds!.Value,
                    suite.Stage == VerifyStage ? VerifyStage : null));
            }
        }

        return [.. suites.OrderBy(s => s.Name, StringComparer.Ordinal)];
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

        if (body.Flow is not null && !GraphVocabulary.EdgeFlowNames.Contains(body.Flow))
        {
            errors["flow"] = [$"flow must be one of {string.Join(", ", EdgeFlows.All)}, or omitted to derive it from the kind."];
        }

        return errors.Count > 0 ? null : new GraphEdge(body.From!, body.To!, body.Kind!, body.Flow);
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
