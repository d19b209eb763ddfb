using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Client;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Http;
using Microsoft.Extensions.Options;

namespace ControlPlane.Orchestrator.Scheduling;

/// <summary>
/// Resolves, for each window that extends to dependents, the dependents of the nodes it names: system-graph's
/// GET /graph/impact?targets=node (graph:read) with orchestrator's own workload token (Mcp:ServiceClient, which serves
/// the MCP autonomy tool too). Each node's answer is kept for Orchestrator:Scheduling:DependentsTtl so the
/// scheduler's passes do not ask every second; a failure is kept for a few seconds and makes the window fail closed.
/// </summary>
public sealed partial class WindowDependents(ServiceTokens tokens, IHttpClientFactory http, IConfiguration configuration,
    IOptions<OrchestratorOptions> options, TimeProvider clock, ILogger<WindowDependents> logger)
{
    public const string HttpClientName = "window-dependents";
    private const string SystemGraph = "system-graph";

    /// <summary>The longest one look-up may take, retries included: the scheduler waits for it under its lock, so a hung system-graph must not stall every pass.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>How long a failed look-up is remembered: long enough not to stall each pass on retries, short enough to recover soon.</summary>
    private static readonly TimeSpan FailureTtl = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, Entry> _cache = new(StringComparer.Ordinal);

    /// <summary>The windows, those that extend to dependents with their nodes' dependents or the reason they are unknown.</summary>
    public async Task<IReadOnlyList<CompiledWindow>> ResolveAsync(IReadOnlyList<CompiledWindow> windows, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(windows);
        var resolved = new List<CompiledWindow>(windows.Count);
        foreach (var window in windows)
        {
            var nodes = window.Window.Scope.Nodes;
            if (!window.Window.ExtendsToDependents || nodes.Contains("*", StringComparer.Ordinal))
            {
                resolved.Add(window); // "*" already holds every node
                continue;
            }

            var dependents = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            string? failure = null;
            foreach (var node in nodes.Distinct(StringComparer.Ordinal))
            {
                var entry = await LookUpAsync(node, ct);
                if (entry.Failure is not null)
                {
                    failure = entry.Failure;
                    break;
                }

                dependents[node] = entry.Dependents!;
            }

            resolved.Add(failure is null ? window.WithDependents(dependents) : window.WithDependentsUnresolved(failure));
        }

        return resolved;
    }

    private async Task<Entry> LookUpAsync(string node, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (_cache.TryGetValue(node, out var cached) && cached.Until > now)
        {
            return cached;
        }

        var entry = await FetchAsync(node, now, ct);
        if (entry.Failure is not null)
        {
            LogUnresolved(logger, node, entry.Failure);
        }

        _cache[node] = entry;
        return entry;
    }

    private async Task<Entry> FetchAsync(string node, DateTimeOffset now, CancellationToken ct)
    {
        var retry = now + FailureTtl;
        if (!tokens.IsConfigured)
        {
            return new(retry, null, "orchestrator has no service credentials (Mcp:ServiceClient:ClientId and :ClientSecret, and services:identity:http:0)");
        }

        if (ServiceEndpoints.TryResolve(configuration, SystemGraph) is not { } graph)
        {
            return new(retry, null, "system-graph's address is not configured (services:system-graph:http:0)");
        }

        string token;
        try
        {
            token = await tokens.GetAsync(SystemGraph, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TokenRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return new(retry, null, "identity unreachable or refused orchestrator's token for system-graph");
        }

        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(graph, $"graph/impact?targets={Uri.EscapeDataString(node)}"));
            request.Headers.Authorization = new("Bearer", token);
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, ct);
            if (!response.IsSuccessStatusCode)
            {
                if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized)
                {
                    tokens.Invalidate(SystemGraph); // revoked or rotated: the next look-up asks identity again
                }

                return new(retry, null, $"system-graph answered {(int)response.StatusCode}");
            }

            var report = await response.Content.ReadFromJsonAsync<ImpactReport>(ContractJson.Options, ct);
            return report is null
                ? new(retry, null, "system-graph answered an empty impact report")
                : new(now + options.Value.Scheduling.DependentsTtl, [.. report.Dependents.Select(d => d.NodeId)], null);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return new(retry, null, "system-graph unreachable");
        }
    }

    private sealed record Entry(DateTimeOffset Until, IReadOnlyList<string>? Dependents, string? Failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot resolve the dependents of {Node} ({Reason}); windows that freeze it hold every change in their scope")]
    private static partial void LogUnresolved(ILogger logger, string node, string reason);
}
