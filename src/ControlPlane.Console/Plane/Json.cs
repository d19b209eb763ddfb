using System.Globalization;
using System.Text.Json.Nodes;

namespace ControlPlane.Console.Plane;

/// <summary>Reading the services' JSON for display: absent is "—", lists are joined, times are UTC.</summary>
public static class Json
{
    public static string Text(JsonNode? node) => node switch
    {
        null => "—",
        JsonArray array => array.Count == 0 ? "—" : string.Join(", ", array.Select(Text)),
        _ => node.ToString(),
    };

    public static IEnumerable<JsonNode> Items(JsonNode? node) => node is JsonArray array ? array.OfType<JsonNode>() : [];

    public static string Time(JsonNode? node) =>
        node is not null && DateTimeOffset.TryParse(node.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var at)
            ? at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)
            : "—";

    public static string Age(JsonNode? node, DateTimeOffset now) =>
        node is not null && DateTimeOffset.TryParse(node.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var at)
            ? Duration(now - at)
            : "—";

    public static string Duration(TimeSpan span) => span.TotalSeconds < 0 ? "0 s"
        : span.TotalMinutes < 1 ? $"{span.TotalSeconds:0} s"
        : span.TotalHours < 1 ? $"{span.TotalMinutes:0} min"
        : span.TotalDays < 1 ? $"{span.TotalHours:0.#} h"
        : $"{span.TotalDays:0.#} d";

    public static string Ms(JsonNode? node) => node is null ? "—" : Duration(TimeSpan.FromMilliseconds(node.GetValue<double>()));

    public static string Percent(JsonNode? node) => node is null ? "—" : (node.GetValue<double>() * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %";
}
