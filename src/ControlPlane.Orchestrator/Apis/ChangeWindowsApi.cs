using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.Orchestrator.Scheduling;
using ControlPlane.ServiceDefaults.Http;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Orchestrator.Apis;

/// <summary>A change window as the API shows it: the window's own fields, and whether it is open now, until when, and when it next opens.</summary>
public static class ChangeWindowView
{
    public static JsonObject Of(ChangeWindow window, DateTimeOffset now)
    {
        var compiled = CompiledWindow.Compile(window);
        var active = compiled.IsOpen(now);
        var view = JsonSerializer.SerializeToNode(window, ContractJson.Options)!.AsObject();
        view["active"] = active;
        view["activeUntil"] = active ? compiled.OpenUntil(now) : null;
        view["nextStart"] = compiled.NextStart(now);
        return view;
    }
}

/// <summary>
/// /schedule/windows: recurring allow/deny change windows. Reading needs proposals:read (agents and viewers see why
/// their changes wait); writing needs schedule:operate over every environment the window names ("*" needs a global
/// binding), as for kill switches.
/// </summary>
public static class ChangeWindowsApi
{
    public static IEndpointRouteBuilder MapChangeWindowsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/schedule/windows").WithTags("Schedule");
        api.MapGet("/", ListAsync).RequirePermission(Permissions.ProposalsRead)
            .WithSummary("Every change window, with whether it is open now, until when, and when it next opens.");
        api.MapGet("/{id:guid}", GetAsync).RequirePermission(Permissions.ProposalsRead)
            .WithSummary("One change window.");
        api.MapPost("/", CreateAsync).RequirePermission(Permissions.ScheduleOperate).Accepts<ChangeWindowRequest>("application/json")
            .WithSummary("Create a change window (kind allow|deny, 5-field cron schedule, duration, IANA timeZone, scope); recorded as evidence.");
        api.MapPut("/{id:guid}", UpdateAsync).RequirePermission(Permissions.ScheduleOperate).Accepts<ChangeWindowRequest>("application/json")
            .WithSummary("Replace a change window; recorded as evidence.");
        api.MapDelete("/{id:guid}", DeleteAsync).RequirePermission(Permissions.ScheduleOperate)
            .WithSummary("Delete a change window; recorded as evidence.");
        return app;
    }

    private static async Task<IResult> ListAsync(ChangeWindowStore store, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return Results.Ok((await store.ListAsync(ct)).Select(w => ChangeWindowView.Of(w, now)).ToList());
    }

    private static async Task<IResult> GetAsync(Guid id, ChangeWindowStore store, TimeProvider clock, CancellationToken ct) =>
        await store.GetAsync(id, ct) is { } window ? Results.Ok(ChangeWindowView.Of(window, clock.GetUtcNow())) : NotFound(id);

    private static async Task<IResult> CreateAsync(HttpContext http, ChangeWindowStore store, SubmissionValidator validator, SchedulerSignal signal,
        TimeProvider clock, CancellationToken ct)
    {
        var (request, problem) = await ReadAsync(http, validator, ct);
        if (problem is not null)
        {
            return problem;
        }

        var caller = http.GetCaller();
        if (Forbidden(caller, request!.Scope!.Environments ?? ["*"]) is { } forbidden)
        {
            return forbidden;
        }

        var now = clock.GetUtcNow();
        var window = await store.CreateAsync(request.ToWindow(Guid.CreateVersion7(now), caller.Id, now), ct);
        signal.Poke(); // held work is looked at again under the new window at once
        return Results.Created($"/schedule/windows/{window.Id}", ChangeWindowView.Of(window, now));
    }

    private static async Task<IResult> UpdateAsync(Guid id, HttpContext http, ChangeWindowStore store, SubmissionValidator validator,
        SchedulerSignal signal, TimeProvider clock, CancellationToken ct)
    {
        var (request, problem) = await ReadAsync(http, validator, ct);
        if (problem is not null)
        {
            return problem;
        }

        var caller = http.GetCaller();
        if (await store.GetAsync(id, ct) is not { } existing)
        {
            return NotFound(id);
        }

        // The caller must be allowed over what the window governs now and over what it would govern.
        if ((Forbidden(caller, existing.Scope.Environments) ?? Forbidden(caller, request!.Scope!.Environments ?? ["*"])) is { } forbidden)
        {
            return forbidden;
        }

        var now = clock.GetUtcNow();
        var updated = await store.UpdateAsync(id, current => request!.ToWindow(id, current.CreatedBy, current.CreatedAt, caller.Id, now), ct);
        if (updated is null)
        {
            return NotFound(id);
        }

        signal.Poke();
        return Results.Ok(ChangeWindowView.Of(updated, now));
    }

    private static async Task<IResult> DeleteAsync(Guid id, HttpContext http, ChangeWindowStore store, SchedulerSignal signal, CancellationToken ct)
    {
        var caller = http.GetCaller();
        if (await store.GetAsync(id, ct) is not { } existing)
        {
            return NotFound(id);
        }

        if (Forbidden(caller, existing.Scope.Environments) is { } forbidden)
        {
            return forbidden;
        }

        if (await store.DeleteAsync(id, caller.Id, ct) is null)
        {
            return NotFound(id);
        }

        signal.Poke();
        return Results.NoContent();
    }

    private static async Task<(ChangeWindowRequest? Request, IResult? Problem)> ReadAsync(HttpContext http, SubmissionValidator validator, CancellationToken ct)
    {
        var body = await http.Request.ReadJsonBodyAsync<ChangeWindowRequest>(ct);
        if (body.Problem is not null)
        {
            return (null, body.Problem);
        }

        var errors = body.Value!.Validate(validator.Environments);
        return errors.Count > 0 ? (null, Results.ValidationProblem(errors)) : (body.Value, null);
    }

    /// <summary>schedule:operate over each environment the window names; "*" (or no list) spans them all, so a global binding.</summary>
    private static IResult? Forbidden(Caller caller, IReadOnlyList<string> environments)
    {
        IReadOnlyList<string?> named = environments.Contains("*") ? [(string?)null] : [.. environments];
        foreach (var environment in named)
        {
            if (!caller.HasPermission(Permissions.ScheduleOperate, environment))
            {
                return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                    detail: $"No binding of {caller.Id} grants schedule:operate over {environment ?? "every environment"}.");
            }
        }

        return null;
    }

    private static IResult NotFound(Guid id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"No change window {id}.");
}
