namespace ControlPlane.SystemGraph.Catalog;

/// <summary>One catalog file as sent to the import: a path (for messages) and its YAML text.</summary>
public sealed record CatalogFile(string Path, string Content);

/// <summary>
/// What is wrong, and where: the file, the line of the entity or field, the entity ("component:billing") and the
/// field ("spec.dependsOn[1]"). Every import error is one of these, so a catalog owner can go straight to the line.
/// </summary>
public sealed record CatalogProblem(string File, int? Line, string? Entity, string Field, string Message)
{
    public override string ToString() =>
        $"{File}{(Line is { } l ? $":{l}" : "")}{(Entity is null ? "" : $" {Entity}")} {Field}: {Message}";
}

/// <summary>A reference to another entity: "[kind:][namespace/]name", compared case-insensitively as Backstage does.</summary>
public readonly record struct EntityRef(string Kind, string Namespace, string Name)
{
    public const string DefaultNamespace = "default";

    /// <summary>Parses a ref, filling in <paramref name="defaultKind"/> and the default namespace; null when it is not a ref.</summary>
    public static EntityRef? Parse(string? value, string defaultKind)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var text = value.Trim();
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var kind = colon > 0 ? text[..colon] : defaultKind;
        var rest = colon > 0 ? text[(colon + 1)..] : text;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var ns = slash > 0 ? rest[..slash] : DefaultNamespace;
        var name = slash > 0 ? rest[(slash + 1)..] : rest;
        return name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name.Contains(':', StringComparison.Ordinal)
            ? null
            : new EntityRef(kind.ToLowerInvariant(), ns.ToLowerInvariant(), name.ToLowerInvariant());
    }

    public override string ToString() => Namespace == DefaultNamespace ? $"{Kind}:{Name}" : $"{Kind}:{Namespace}/{Name}";
}

/// <summary>A list-valued field of an entity with the line of each item.</summary>
public sealed record RefList(IReadOnlyList<(string Value, int Line)> Items)
{
    public static RefList Empty { get; } = new([]);
}

/// <summary>
/// The parts of a Backstage entity the import uses (apiVersion backstage.io/v1alpha1 or v1beta1). Kind is
/// lowercase; Ref is the entity's own ref. Lines are 1-based lines in <see cref="File"/>.
/// </summary>
public sealed record BackstageEntity(
    string File,
    int Line,
    string Kind,
    EntityRef Ref,
    string? Title,
    IReadOnlyDictionary<string, (string Value, int Line)> Annotations,
    string? SpecType,
    (string Value, int Line)? Owner,
    (string Value, int Line)? System,
    RefList DependsOn,
    RefList ProvidesApis,
    RefList ConsumesApis)
{
    public string Label => Ref.ToString();
}
