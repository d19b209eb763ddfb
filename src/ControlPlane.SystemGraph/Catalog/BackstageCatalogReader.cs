using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ControlPlane.SystemGraph.Catalog;

/// <summary>The entities of a catalog, the problems that stop the import, and notes that do not.</summary>
public sealed record CatalogReadResult(IReadOnlyList<BackstageEntity> Entities, IReadOnlyList<CatalogProblem> Problems, IReadOnlyList<string> Warnings);

/// <summary>
/// Reads Backstage catalog-info.yaml files (several documents per file allowed) into <see cref="BackstageEntity"/>
/// records. Pure: text in, records and problems out, each problem naming the file, line and field.
/// </summary>
public static class BackstageCatalogReader
{
    /// <summary>The entity kinds that become parts of the graph (or its teams); others are skipped with a note.</summary>
    public static readonly IReadOnlySet<string> ImportedKinds = new HashSet<string>(["component", "api", "resource", "system", "group"], StringComparer.Ordinal);

    private static readonly HashSet<string> ApiVersions = new(["backstage.io/v1alpha1", "backstage.io/v1beta1", "backstage.io/v1"], StringComparer.Ordinal);

    public static CatalogReadResult Read(IEnumerable<CatalogFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var entities = new List<BackstageEntity>();
        var problems = new List<CatalogProblem>();
        var warnings = new List<string>();
        foreach (var file in files)
        {
            var stream = new YamlStream();
            try
            {
                stream.Load(new StringReader(file.Content));
            }
            catch (YamlException ex)
            {
                problems.Add(new CatalogProblem(file.Path, (int)ex.Start.Line, null, "yaml", $"not valid YAML: {Inner(ex).Message}"));
                continue;
            }

            foreach (var document in stream.Documents)
            {
                if (ReadEntity(file.Path, document.RootNode, problems, warnings) is { } entity)
                {
                    entities.Add(entity);
                }
            }
        }

        return new CatalogReadResult(entities, problems, warnings);
    }

    private static Exception Inner(YamlException ex) => ex.InnerException is YamlException inner ? Inner(inner) : ex;

    private static BackstageEntity? ReadEntity(string path, YamlNode root, List<CatalogProblem> problems, List<string> warnings)
    {
        var line = Line(root);
        if (root is YamlScalarNode { Value: null or "" })
        {
            return null; // an empty document, e.g. after a trailing "---"
        }

        if (root is not YamlMappingNode entity)
        {
            problems.Add(new CatalogProblem(path, line, null, "(document)", "an entity is a mapping with apiVersion, kind, metadata and spec."));
            return null;
        }

        var count = problems.Count;
        var kind = Scalar(entity, "kind")?.ToLowerInvariant();
        var metadata = Child(entity, "metadata") as YamlMappingNode;
        var name = metadata is null ? null : Scalar(metadata, "name");
        var ns = metadata is null ? null : Scalar(metadata, "namespace");
        var label = kind is null || name is null ? null : new EntityRef(kind, (ns ?? EntityRef.DefaultNamespace).ToLowerInvariant(), name.ToLowerInvariant()).ToString();
        if (Scalar(entity, "apiVersion") is not { } apiVersion || !ApiVersions.Contains(apiVersion))
        {
            problems.Add(new CatalogProblem(path, Line(Child(entity, "apiVersion") ?? entity), label, "apiVersion",
                $"must be one of {string.Join(", ", ApiVersions.Order(StringComparer.Ordinal))}."));
        }

        if (kind is null)
        {
            problems.Add(new CatalogProblem(path, line, label, "kind", "kind is required (Component, API, Resource, System or Group)."));
            return null;
        }

        if (!ImportedKinds.Contains(kind))
        {
            warnings.Add($"{path}:{line}: {kind}{(name is null ? "" : $":{name}")} skipped: only Component, API, Resource, System and Group entities are imported.");
            return null;
        }

        if (name is null)
        {
            problems.Add(new CatalogProblem(path, Line(metadata ?? (YamlNode)entity), label, "metadata.name", "metadata.name is required."));
            return null;
        }

        var annotations = new Dictionary<string, (string, int)>(StringComparer.Ordinal);
        if (metadata is not null && Child(metadata, "annotations") is YamlMappingNode map)
        {
            foreach (var (key, value) in map.Children)
            {
                if (key is YamlScalarNode { Value: { } k } && value is YamlScalarNode { Value: { } v })
                {
                    annotations[k] = (v, Line(value));
                }
                else if (key is YamlScalarNode { Value: { } bad })
                {
                    problems.Add(new CatalogProblem(path, Line(value), label, $"metadata.annotations.{bad}", "annotation values are strings."));
                }
            }
        }

        var spec = Child(entity, "spec") as YamlMappingNode;
        if (spec is null && kind != "group")
        {
            problems.Add(new CatalogProblem(path, line, label, "spec", "spec is required."));
            return null;
        }

        RefList List(string field) => spec is null ? RefList.Empty : ReadList(spec, field, path, label, problems);
        (string, int)? Field(string field) =>
            spec is not null && Child(spec, field) is YamlScalarNode { Value: { Length: > 0 } v } node ? (v, Line(node)) : null;

        var result = new BackstageEntity(path, line, kind, new EntityRef(kind, (ns ?? EntityRef.DefaultNamespace).ToLowerInvariant(), name.ToLowerInvariant()),
            metadata is null ? null : Scalar(metadata, "title"), annotations, Field("type")?.Item1, Field("owner"), Field("system"),
            List("dependsOn"), List("providesApis"), List("consumesApis"));
        return problems.Count == count ? result : null;
    }

    private static RefList ReadList(YamlMappingNode spec, string field, string path, string? label, List<CatalogProblem> problems)
    {
        switch (Child(spec, field))
        {
            case null:
            case YamlScalarNode { Value: null or "" }:
                return RefList.Empty;
            case YamlSequenceNode sequence:
                var items = new List<(string, int)>();
                foreach (var (item, i) in sequence.Children.Select((n, i) => (n, i)))
                {
                    if (item is YamlScalarNode { Value: { Length: > 0 } v })
                    {
                        items.Add((v, Line(item)));
                    }
                    else
                    {
                        problems.Add(new CatalogProblem(path, Line(item), label, $"spec.{field}[{i}]", "each item is an entity ref such as 'component:billing'."));
                    }
                }

                return new RefList(items);
            case var other:
                problems.Add(new CatalogProblem(path, Line(other), label, $"spec.{field}", "must be a list of entity refs."));
                return RefList.Empty;
        }
    }

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;

    private static string? Scalar(YamlMappingNode node, string key) =>
        Child(node, key) is YamlScalarNode { Value: { Length: > 0 } value } ? value.Trim() : null;

    private static int Line(YamlNode node) => (int)node.Start.Line;
}
