using System.Text.Json;
using ControlPlane.Client;

namespace ControlPlane.Load;

/// <summary>
/// A 5xx answer breaks the plane's promise (bad input is a 4xx, an outage is retried), so the tool names each one with
/// the trace id the service put in its problem: the dashboard's structured logs and traces filter by it while the plane
/// still runs (DCP deletes the console logs when it stops).
/// </summary>
public static class ServerFault
{
    /// <summary>At most this many faults are printed one by one; the rest are only counted with the refusals.</summary>
    public const int Printed = 5;

    /// <summary>A line for a server fault, or null for any other refusal.</summary>
    public static string? Describe(Exception exception, long index)
    {
        if (exception is not ControlPlaneException { Status: var status } problem || (int)status < 500)
        {
            return null;
        }

        var trace = problem.Problem is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty("traceId", out var id) && id.ValueKind == JsonValueKind.String
            ? id.GetString()
            : null;
        return $"server fault on submission {index}: {(int)status} {problem.Title ?? status.ToString()}" +
            (trace is null ? " (no trace id in the answer)" : $"; trace {trace} (dashboard: Structured logs / Traces, filter by it)");
    }
}
