using System.Globalization;
using System.Text.RegularExpressions;

namespace ControlPlane.Policy.Bundles;

/// <summary>The reader's primitives: map lookups, typed values (text, whole numbers, booleans, name sets) that report an error at their path, and the slug and duration formats.</summary>
public static partial class BundleParser
{
    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex Slug();

    [GeneratedRegex("^(?:(?<d>[0-9]{1,4})d)?(?:(?<h>[0-9]{1,5})h)?(?:(?<m>[0-9]{1,6})m)?(?:(?<s>[0-9]{1,7})s)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Duration();

    /// <summary>Parses "4h", "30m", "1d", "1h30m", "90s" into a time span; null when it is not one.</summary>
    public static TimeSpan? ParseDuration(string text)
    {
        var match = Duration().Match(text ?? string.Empty);
        if (!match.Success || string.IsNullOrEmpty(text))
        {
            return null;
        }

        static long Part(Match m, string name) => m.Groups[name].Success ? long.Parse(m.Groups[name].Value, CultureInfo.InvariantCulture) : 0;
        return TimeSpan.FromSeconds((((Part(match, "d") * 24) + Part(match, "h")) * 60 + Part(match, "m")) * 60 + Part(match, "s"));
    }

    private sealed partial class Reader
    {
        private static YamlValue? Get(YamlMap map, string key)
        {
            foreach (var (k, v) in map.Entries)
            {
                if (k.Value == key)
                {
                    return v;
                }
            }

            return null;
        }

        private YamlMap? Map(YamlValue node, string path, string message)
        {
            if (node is YamlMap map)
            {
                return map;
            }

            Error(node, path, message);
            return null;
        }

        private void RejectUnknown(YamlMap map, string path, string[] allowed)
        {
            foreach (var (key, _) in map.Entries.Where(e => !allowed.Contains(e.Key.Value)))
            {
                Error(key, $"{path}.{key.Value}", $"unknown key '{key.Value}' (allowed here: {string.Join(", ", allowed)})");
            }
        }

        private string? Text(YamlMap map, string key, string path, bool required)
        {
            var node = Get(map, key);
            if (node is null || node is YamlText { IsNull: true })
            {
                if (required)
                {
                    Error(node ?? map, $"{path}.{key}", $"'{key}' is required");
                }

                return null;
            }

            if (node is YamlText text && text.Value.Trim().Length > 0)
            {
                return text.Value.Trim();
            }

            Error(node, $"{path}.{key}", $"'{key}' must be non-empty text");
            return null;
        }

        private int? Int(YamlMap map, string key, string path, int min, int max, bool required = false)
        {
            var text = Text(map, key, path, required);
            if (text is null)
            {
                return null;
            }

            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }

            Error(Get(map, key)!, $"{path}.{key}", $"'{key}' must be a whole number from {min} to {max}, not '{text}'");
            return null;
        }

        private bool? Bool(YamlMap map, string key, string path)
        {
            var text = Text(map, key, path, required: false);
            switch (text)
            {
                case null:
                    return null;
                case "true":
                    return true;
                case "false":
                    return false;
                default:
                    Error(Get(map, key)!, $"{path}.{key}", $"'{key}' must be true or false, not '{text}'");
                    return null;
            }
        }

        /// <summary>A non-empty list of names (sorted and distinct: the canonical form of a set).</summary>
        private List<string>? Names(YamlMap map, string key, string path, bool required = false)
        {
            var node = Get(map, key);
            if (node is null)
            {
                if (required)
                {
                    Error(map, $"{path}.{key}", $"'{key}' is required");
                }

                return null;
            }

            if (node is not YamlList list || list.Items.Count == 0)
            {
                Error(node, $"{path}.{key}", $"'{key}' must be a non-empty list (omit it to match anything)");
                return null;
            }

            var names = new List<string>();
            foreach (var item in list.Items)
            {
                if (item is YamlText { IsNull: false } text && text.Value.Length is > 0 and <= 200 && !text.Value.Any(char.IsWhiteSpace))
                {
                    names.Add(text.Value);
                }
                else
                {
                    Error(item, $"{path}.{key}", $"every entry of '{key}' must be a name without spaces");
                }
            }

            return [.. names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        }
    }
}
