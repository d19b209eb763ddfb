using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace ControlPlane.Policy.Bundles;

/// <summary>A position in the YAML text, 1-based, for error messages.</summary>
public readonly record struct TextPosition(int Line, int Column)
{
    public static TextPosition From(Mark mark) => new((int)mark.Line, (int)mark.Column);
}

/// <summary>A YAML node with where it starts. Mappings keep their entries in order with their key positions.</summary>
public abstract record YamlValue(TextPosition At);

public sealed record YamlText(string Value, bool Plain, TextPosition At) : YamlValue(At)
{
    /// <summary>A plain empty, "~" or "null" scalar is YAML's null.</summary>
    public bool IsNull => Plain && Value is "" or "~" or "null" or "Null" or "NULL";
}

public sealed record YamlList(IReadOnlyList<YamlValue> Items, TextPosition At) : YamlValue(At);

public sealed record YamlMap(IReadOnlyList<KeyValuePair<YamlText, YamlValue>> Entries, TextPosition At) : YamlValue(At);

/// <summary>
/// Reads one YAML document into <see cref="YamlValue"/>s from YamlDotNet's parser events. Stricter than the
/// representation model on purpose, because a policy bundle is security configuration: aliases are refused (no
/// alias bombs, no hidden sharing), keys must be scalars, a key may appear once per mapping, and there is
/// exactly one document.
/// </summary>
public static class YamlTree
{
    public const int MaxDepth = 32;

    public static YamlValue? Load(string text, out string? error, out TextPosition errorAt)
    {
        error = null;
        errorAt = default;
        try
        {
            var parser = new Parser(new StringReader(text));
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                error = "the bundle is empty";
                return null;
            }

            parser.Consume<DocumentStart>();
            var root = Read(parser, 0);
            parser.Consume<DocumentEnd>();
            if (!parser.Accept<StreamEnd>(out _))
            {
                var next = parser.Current!;
                throw new YamlException(next.Start, next.End, "a bundle is one YAML document; found a second one");
            }

            return root;
        }
        catch (YamlException ex)
        {
            error = Describe(ex);
            errorAt = TextPosition.From(ex.Start);
            return null;
        }
    }

    private static YamlValue Read(IParser parser, int depth)
    {
        if (depth > MaxDepth)
        {
            var current = parser.Current!;
            throw new YamlException(current.Start, current.End, $"nesting deeper than {MaxDepth} levels");
        }

        if (parser.TryConsume<Scalar>(out var scalar))
        {
            return new YamlText(scalar.Value, scalar.Style == ScalarStyle.Plain, TextPosition.From(scalar.Start));
        }

        if (parser.TryConsume<SequenceStart>(out var sequenceStart))
        {
            var items = new List<YamlValue>();
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                items.Add(Read(parser, depth + 1));
            }

            return new YamlList(items, TextPosition.From(sequenceStart.Start));
        }

        if (parser.TryConsume<MappingStart>(out var mappingStart))
        {
            var entries = new List<KeyValuePair<YamlText, YamlValue>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var keyEvent = parser.Current!;
                if (Read(parser, depth + 1) is not YamlText key)
                {
                    throw new YamlException(keyEvent.Start, keyEvent.End, "mapping keys must be plain text");
                }

                if (!seen.Add(key.Value))
                {
                    throw new YamlException(keyEvent.Start, keyEvent.End, $"key '{key.Value}' appears twice in the same mapping");
                }

                entries.Add(KeyValuePair.Create(key, Read(parser, depth + 1)));
            }

            return new YamlMap(entries, TextPosition.From(mappingStart.Start));
        }

        var unexpected = parser.Current!;
        throw new YamlException(unexpected.Start, unexpected.End, unexpected is AnchorAlias
            ? "aliases (*name) are not allowed in a policy bundle: write the value out"
            : $"unexpected {unexpected.GetType().Name}");
    }

    /// <summary>YamlDotNet prefixes messages with the marks; the caller reports the position separately.</summary>
    private static string Describe(YamlException ex)
    {
        var message = ex.Message;
        var cut = message.IndexOf("): ", StringComparison.Ordinal);
        return cut >= 0 && message.StartsWith("(Line", StringComparison.Ordinal) ? message[(cut + 3)..] : message;
    }
}
