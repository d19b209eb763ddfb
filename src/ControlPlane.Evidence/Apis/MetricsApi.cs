using ControlPlane.Evidence.Autonomy;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Evidence.Apis;

/// <summary>
/// Autonomy metrics (the projection evidence keeps of every governed action) and the chain status for the audit
/// page. Both describe the whole plane, so both need evidence:read through an unscoped binding.
/// </summary>
public static class MetricsApi
{
    /// <summary>The longest window one request may ask for: the figures are computed from rows in memory.</summary>
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(92);

    public static IEndpointRouteBuilder MapMetricsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics/autonomy", GetAutonomyAsync)
            .RequirePermission(Permissions.EvidenceRead)
            .WithTags("Metrics")
            .WithSummary("Autonomy figures of governed actions submitted in [from, to) (default: the last 24 h), by environment, agent and action kind");
        app.MapGet("/evidence/verification", async (HttpContext http, ChainStatusCache chain, CancellationToken ct) =>
            Unscoped(http) ?? Results.Json(await chain.GetAsync(ct)))
            .RequirePermission(Permissions.EvidenceRead)
            .WithTags("Evidence")
            .WithSummary("Whether the global chain verifies (recomputed at most once a minute)");
        return app;
    }

    private static async Task<IResult> GetAutonomyAsync(string? from, string? to, string? environment, string? agent, string? actionKind,
        HttpContext http, AutonomyStore store, TimeProvider clock, CancellationToken ct)
    {
        if (Unscoped(http) is { } forbidden)
        {
            return forbidden;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var end = EvidenceApi.ParseTime(to, "to", errors) ?? clock.GetUtcNow();
        var start = EvidenceApi.ParseTime(from, "from", errors) ?? end.AddHours(-24);
        if (errors.Count == 0 && (start >= end || end - start > MaxWindow))
        {
            errors["from"] = [$"from must be before to, at most {MaxWindow.TotalDays:0} days apart."];
        }

        foreach (var (name, value) in new[] { ("environment", environment), ("agent", agent), ("actionKind", actionKind) })
        {
            if (value is { Length: 0 or > 256 })
            {
                errors[name] = [$"{name} must be 1 to 256 characters."];
            }
        }

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        return Results.Json(await store.ComputeAsync(new AutonomyFilter(start, end, environment, agent, actionKind), ct));
    }

    private static IResult? Unscoped(HttpContext http) => http.GetCaller().HasPermission(Permissions.EvidenceRead, environment: null)
        ? null
        : Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
            detail: "Plane-wide figures need evidence:read through an unscoped binding.");
}
