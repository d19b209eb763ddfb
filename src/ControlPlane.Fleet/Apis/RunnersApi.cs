using ControlPlane.Contracts;
using ControlPlane.Fleet.Runners;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Fleet.Apis;

/// <summary>
/// Runners register, rotate their key and heartbeat under their own identity (role "runner", fleet:run; the token
/// subject is the runner id and cp_fleet its fleet). Operators list and remove runners.
/// </summary>
public static class RunnersApi
{
    public static IEndpointRouteBuilder MapRunnersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/fleet/runners").WithTags("Runners");
        group.MapPost("/", RegisterAsync).RequirePermission(Permissions.FleetRun);
        group.MapPost("/{runnerId}/heartbeat", HeartbeatAsync).RequirePermission(Permissions.FleetRun);
        group.MapGet("/", ListAsync).RequirePermission(Permissions.FleetRead);
        group.MapGet("/{runnerId}", GetAsync).RequirePermission(Permissions.FleetRead);
        group.MapDelete("/{runnerId}", RemoveAsync).RequirePermission(Permissions.FleetWrite);
        return app;
    }

    private static async Task<IResult> RegisterAsync(RunnerRegistration? registration, HttpContext http, RunnerRegistry registry, CancellationToken ct)
    {
        var errors = RegistrationRules.Validate(registration, out var key);
        key?.Dispose();
        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        if (RegistrationRules.CallerMismatch(http.GetCaller(), registration!.RunnerId, registration.Fleet) is { } mismatch)
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not this runner", detail: mismatch);
        }

        if (!await registry.FleetExistsAsync(registration.Fleet, ct))
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["fleet"] = [$"fleet '{registration.Fleet}' does not exist"] });
        }

        var (created, _) = await registry.RegisterAsync(registration, ct);
        var runner = await registry.FindAsync(registration.RunnerId, ct);
        return created
            ? Results.Created($"/fleet/runners/{Uri.EscapeDataString(registration.RunnerId)}", runner)
            : Results.Ok(runner);
    }

    private static async Task<IResult> HeartbeatAsync(string runnerId, HttpContext http, RunnerRegistry registry, CancellationToken ct)
    {
        var caller = http.GetCaller();
        if (!string.Equals(caller.Id, runnerId, StringComparison.Ordinal) || caller.Fleet is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not this runner",
                detail: RegistrationRules.CallerMismatch(caller, runnerId, caller.Fleet ?? string.Empty));
        }

        return await registry.HeartbeatAsync(runnerId, caller.Fleet, ct) switch
        {
            HeartbeatResult.Live => Results.Ok(new { runnerId, status = "live" }),
            HeartbeatResult.Unknown => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not registered",
                detail: $"runner {runnerId} is not registered; register again"),
            _ => Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not this runner",
                detail: $"runner {runnerId} is registered in another fleet than the token's '{caller.Fleet}'"),
        };
    }

    private static async Task<IResult> ListAsync(string? fleet, RunnerRegistry registry, CancellationToken ct) =>
        Results.Ok(await registry.ListAsync(fleet, ct));

    private static async Task<IResult> GetAsync(string runnerId, RunnerRegistry registry, CancellationToken ct) =>
        await registry.FindAsync(runnerId, ct) is { } runner
            ? Results.Ok(runner)
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown runner", detail: $"runner {runnerId} is not registered");

    private static async Task<IResult> RemoveAsync(string runnerId, RunnerRegistry registry, CancellationToken ct) =>
        await registry.RemoveAsync(runnerId, ct)
            ? Results.NoContent()
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown runner", detail: $"runner {runnerId} is not registered");
}
