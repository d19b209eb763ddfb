using System.Text.RegularExpressions;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Orchestrator.Apis;

/// <summary>Body of POST /schedule/kill-switches.</summary>
public sealed record KillSwitchRequest(string? Scope, string? Value, string? Reason);

public static partial class ScheduleApi
{
    public static IEndpointRouteBuilder MapScheduleApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/schedule").WithTags("Schedule");

        api.MapGet("/kill-switches", async (KillSwitchStore store, CancellationToken ct) => Results.Ok(await store.ListAsync(ct)))
            .RequirePermission(Permissions.ProposalsRead)
            .WithSummary("Engaged kill switches.");
        api.MapPost("/kill-switches", EngageAsync).RequirePermission(Permissions.ScheduleOperate)
            .WithSummary("Engage a kill switch for an environment or a fleet: nothing new starts there until it is released.");
        api.MapDelete("/kill-switches/{scope}/{value}", ReleaseAsync).RequirePermission(Permissions.ScheduleOperate)
            .WithSummary("Release a kill switch; ?reason= says why (required, recorded).");
        app.MapChangeWindowsApi();
        return app;
    }

    private static async Task<IResult> EngageAsync(KillSwitchRequest? body, HttpContext http, KillSwitchStore store, SubmissionValidator validator,
        CancellationToken ct)
    {
        var errors = Validate(body?.Scope, body?.Value, validator);
        ValidateReason(body?.Reason, errors);

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        var caller = http.GetCaller();
        if (Forbidden(caller, body!.Scope!, body.Value!) is { } forbidden)
        {
            return forbidden;
        }

        var (engaged, created) = await store.EngageAsync(body.Scope!, body.Value!, body.Reason!, caller.Id, ct);
        return created ? Results.Created($"/schedule/kill-switches/{engaged.Scope}/{engaged.Value}", engaged) : Results.Ok(engaged);
    }

    private static async Task<IResult> ReleaseAsync(string scope, string value, string? reason, HttpContext http, KillSwitchStore store,
        SubmissionValidator validator, CancellationToken ct)
    {
        var errors = Validate(scope, value, validator);
        ValidateReason(reason, errors);
        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        var caller = http.GetCaller();
        if (Forbidden(caller, scope, value) is { } forbidden)
        {
            return forbidden;
        }

        return await store.ReleaseAsync(scope, value, reason!, caller.Id, ct)
            ? Results.NoContent()
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not engaged", detail: $"No kill switch is engaged for {scope} {value}.");
    }

    // Engaging and releasing both change what may run in production: each says why, and evidence records it.
    private static void ValidateReason(string? reason, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(reason) || reason.Length > 500)
        {
            errors["reason"] = ["Required, at most 500 characters: say why, it is recorded."];
        }
    }

    private static Dictionary<string, string[]> Validate(string? scope, string? value, SubmissionValidator validator)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (scope is not (KillSwitchStore.EnvironmentScope or KillSwitchStore.FleetScope))
        {
            errors["scope"] = ["Must be 'environment' or 'fleet'."];
        }
        else if (scope == KillSwitchStore.EnvironmentScope && (value is null || !validator.Environments.Contains(value)))
        {
            errors["value"] = [$"Unknown environment; expected one of: {string.Join(", ", validator.Environments)}."];
        }
        else if (scope == KillSwitchStore.FleetScope && (value is null || !FleetPattern().IsMatch(value)))
        {
            errors["value"] = ["A fleet name: 1-64 lowercase letters, digits or '-'."];
        }

        return errors;
    }

    /// <summary>An environment switch needs schedule:operate over that environment; a fleet switch spans environments, so a global binding.</summary>
    private static IResult? Forbidden(Caller caller, string scope, string value) =>
        caller.HasPermission(Permissions.ScheduleOperate, scope == KillSwitchStore.EnvironmentScope ? value : null)
            ? null
            : Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: $"No binding of {caller.Id} grants schedule:operate over {scope} {value}.");

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex FleetPattern();
}
