using System.Diagnostics;

namespace ControlPlane.ServiceDefaults.Telemetry;

/// <summary>
/// Keeps one governed action in one trace when its work resumes outside the request or message that started it
/// (an approver's request, a poller, a runner's report sender): the span continues the stored trace and links
/// to whatever caused the resumption, so the dashboard shows the proposal end to end and the cause stays one
/// click away.
/// </summary>
public static class TraceContinuation
{
    /// <summary>The current span's W3C traceparent, to store beside the work it belongs to.</summary>
    public static string? Capture() => Activity.Current?.Id;

    /// <summary>
    /// A span in <paramref name="storedParent"/>'s trace. Already in that trace (a consumer of the proposal's own
    /// messages), it is an ordinary child; otherwise its parent is the stored context and the current span a link.
    /// Null when nobody listens (no exporter, no test listener).
    /// </summary>
    public static Activity? Start(ActivitySource source, string name, string? storedParent, ActivityKind kind = ActivityKind.Internal)
    {
        ArgumentNullException.ThrowIfNull(source);
        var current = Activity.Current;
        if (!ActivityContext.TryParse(storedParent, null, out var parent) || current?.TraceId == parent.TraceId)
        {
            return source.StartActivity(name, kind);
        }

        ActivityLink[]? links = current is null ? null : [new ActivityLink(current.Context)];
        return source.StartActivity(name, kind, parent, links: links);
    }
}
