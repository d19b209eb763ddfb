using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace ControlPlane.SystemGraph.Graph;

/// <summary>
/// A part of the system: a service, datastore, queue, pipeline or external system. Tier 0 is the most critical.
/// DataClasses name what it holds ("regulated", "pci", "pii", "public").
/// </summary>
public sealed record GraphNode(
    string Id,
    string Kind,
    string Name,
    string Team,
    int CriticalityTier,
    bool RevenuePath,
    IReadOnlyList<string> DataClasses,
    bool InternetExposed)
{
    /// <summary>Same attributes (the data classes compared as sets): a write that changes nothing is not a new graph version.</summary>
    public bool SameAttributesAs(GraphNode other) =>
        Id == other.Id && Kind == other.Kind && Name == other.Name && Team == other.Team && CriticalityTier == other.CriticalityTier &&
        RevenuePath == other.RevenuePath && InternetExposed == other.InternetExposed &&
        DataClasses.Order(StringComparer.Ordinal).SequenceEqual(other.DataClasses.Order(StringComparer.Ordinal), StringComparer.Ordinal);
}

/// <summary>"From depends on To": From calls, reads, writes, publishes to or consumes from To.</summary>
public sealed record GraphEdge(string From, string To, string Kind)
{
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

    /// <summary>Lowercase letters, digits and inner hyphens, 1 to 63 characters: "billing", "ledger-db".</summary>
    public static bool IsSlug(string? value) => value is { Length: > 0 and <= 63 } && SlugPattern().IsMatch(value);

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex SlugPattern();
}
