using System.Collections.Frozen;
using System.Text.RegularExpressions;
using ControlPlane.Contracts;

namespace ControlPlane.SystemGraph.Graph;

/// <summary>
/// A part of the system: a service, datastore, queue, pipeline or external system. Tier 0 is the most critical.
/// DataClasses name what it holds ("regulated", "pci", "pii", "public"). Suites: the validation suites it declares
/// (ordered by name; stage null means "validate").
/// </summary>
public sealed record GraphNode(
    string Id,
    string Kind,
    string Name,
    string Team,
    int CriticalityTier,
    bool RevenuePath,
    IReadOnlyList<string> DataClasses,
    bool InternetExposed,
    IReadOnlyList<ValidationSuite>? Suites = null)
{
    /// <summary>The declared suites, never null.</summary>
    public IReadOnlyList<ValidationSuite> SuitesOrEmpty => Suites ?? [];

    /// <summary>Same attributes (the data classes compared as sets): a write that changes nothing is not a new graph version.</summary>
    public bool SameAttributesAs(GraphNode other) =>
        Id == other.Id && Kind == other.Kind && Name == other.Name && Team == other.Team && CriticalityTier == other.CriticalityTier &&
        RevenuePath == other.RevenuePath && InternetExposed == other.InternetExposed &&
        DataClasses.Order(StringComparer.Ordinal).SequenceEqual(other.DataClasses.Order(StringComparer.Ordinal), StringComparer.Ordinal) &&
        SuiteSet.Equal(SuitesOrEmpty, other.SuitesOrEmpty);
}

/// <summary>
/// "From depends on To": From calls, reads, writes, publishes to or consumes from To. Flow: how traffic moves along
/// it (<see cref="EdgeFlows"/>); derived from the kind when not given, so it is never null on a built edge.
/// </summary>
public sealed record GraphEdge(string From, string To, string Kind, string? Flow = null)
{
    public string? Flow { get; init; } = Flow ?? GraphVocabulary.DefaultFlow(Kind);

    public override string ToString() => $"{From}->{To}:{Kind}";
}

/// <summary>The vocabulary of the graph and the shape of ids, shared by the API, the seed and the store.</summary>
public static partial class GraphVocabulary
{
    public const int MostCriticalTier = 0;
    public const int LeastCriticalTier = 3;
    public const int MaxNameLength = 200;

    public static readonly FrozenSet<string> NodeKinds =
        new[] { "service", "datastore", "queue", "pipeline", "external" }.ToFrozenSet(StringComparer.Ordinal);

    public static readonly FrozenSet<string> EdgeKinds =
        new[] { "calls", "reads", "writes", "publishes", "consumes" }.ToFrozenSet(StringComparer.Ordinal);

    public static readonly FrozenSet<string> EdgeFlowNames = EdgeFlows.All.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The flow an edge has when none is said: calls → internal-call, publishes/consumes → async, reads → data-read, writes → data-write.</summary>
    public static string DefaultFlow(string? kind) => kind switch
    {
        "publishes" or "consumes" => EdgeFlows.Async,
        "reads" => EdgeFlows.DataRead,
        "writes" => EdgeFlows.DataWrite,
        _ => EdgeFlows.InternalCall,
    };

    /// <summary>
    /// Whether traffic moves against the edge (from To to From): only a consumer's async edge, where the message
    /// travels from the queue to the consumer. Every other flow carries requests from the dependent to its dependency.
    /// </summary>
    public static bool TrafficAgainstEdge(string kind, string flow) => kind == "consumes" && flow == EdgeFlows.Async;

    /// <summary>Lowercase letters, digits and inner hyphens, 1 to 63 characters: "billing", "ledger-db".</summary>
    public static bool IsSlug(string? value) => value is { Length: > 0 and <= 63 } && SlugPattern().IsMatch(value);

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex SlugPattern();
}

/// <summary>Suites compared as sets by their value (a node's suites are kept ordered by name, but a caller may not be).</summary>
public static class SuiteSet
{
    public static bool Equal(IReadOnlyList<ValidationSuite> a, IReadOnlyList<ValidationSuite> b) =>
        a.Count == b.Count && a.OrderBy(s => s.Name, StringComparer.Ordinal).SequenceEqual(b.OrderBy(s => s.Name, StringComparer.Ordinal));
}
