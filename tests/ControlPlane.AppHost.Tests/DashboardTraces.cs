using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ControlPlane.AppHost.Tests;

/// <summary>
/// The traces the Aspire dashboard holds, read through its telemetry API (`/api/telemetry/traces`, OTLP JSON;
/// the AppHost enables it, unsecured when no API key is configured), reduced to what a test asserts: which
/// resources and span names each trace has.
/// </summary>
public sealed record DashboardTrace(string TraceId, IReadOnlyList<DashboardSpan> Spans)
{
    public IReadOnlySet<string> Resources => Spans.Select(s => s.Resource).ToHashSet();

    public override string ToString() =>
        $"{TraceId}: {Spans.Count} spans in [{string.Join(", ", Resources.Order())}]";

    /// <summary>
    /// The newest traces that have a span of <paramref name="resource"/>, each with all its spans. Filtering by a
    /// resource matters: heartbeats and health probes fill the newest thousand traces within a minute.
    /// </summary>
    public static async Task<IReadOnlyList<DashboardTrace>> ReadAsync(Uri dashboard, string resource, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = dashboard };
        using var response = await http.GetAsync($"api/telemetry/traces?resource={Uri.EscapeDataString(resource)}&limit=1000", ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"The dashboard's telemetry API answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }

        var json = await response.Content.ReadFromJsonAsync<JsonObject>(ct) ?? [];
        var spans = new List<DashboardSpan>();
        foreach (var resourceSpans in json["data"]?["resourceSpans"]?.AsArray() ?? [])
        {
            var service = Attribute(resourceSpans?["resource"]?["attributes"], "service.name") ?? "?";
            foreach (var scope in resourceSpans?["scopeSpans"]?.AsArray() ?? [])
            {
                foreach (var span in scope?["spans"]?.AsArray() ?? [])
                {
                    spans.Add(new DashboardSpan(service, scope?["scope"]?["name"]?.ToString() ?? "", span?["traceId"]?.ToString() ?? "",
                        span?["name"]?.ToString() ?? "", span?["parentSpanId"]?.ToString() is { Length: > 0 }));
                }
            }
        }

        return [.. spans.GroupBy(s => s.TraceId).Select(g => new DashboardTrace(g.Key, [.. g]))];
    }

    private static string? Attribute(JsonNode? attributes, string key) =>
        attributes?.AsArray().FirstOrDefault(a => a?["key"]?.ToString() == key)?["value"]?["stringValue"]?.ToString();
}

public sealed record DashboardSpan(string Resource, string Scope, string TraceId, string Name, bool HasParent);
