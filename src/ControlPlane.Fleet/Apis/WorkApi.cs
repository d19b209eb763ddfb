using ControlPlane.Contracts;
using ControlPlane.Fleet.Work;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Fleet.Apis;

/// <summary>Runners acknowledge (accepted, started) and report signed results and refusals of the packages they were sent.</summary>
public static class WorkApi
{
    public static IEndpointRouteBuilder MapWorkApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/fleet/work").WithTags("Work");
        group.MapPost("/{workId:guid}/result", async (Guid workId, DsseEnvelope? envelope, HttpContext http, ResultIntake intake, CancellationToken ct) =>
            ToResult(workId, await intake.AcceptResultAsync(http.GetCaller(), workId, envelope, ct)))
            .RequirePermission(Permissions.FleetRun);
        group.MapPost("/{workId:guid}/refusal", async (Guid workId, WorkRefusal? refusal, HttpContext http, ResultIntake intake, CancellationToken ct) =>
            ToResult(workId, await intake.AcceptRefusalAsync(http.GetCaller(), workId, refusal, ct)))
            .RequirePermission(Permissions.FleetRun);
        // 409 tells the runner its package is no longer the current offer: it must not run it.
        group.MapPost("/{workId:guid}/ack", async (Guid workId, DsseEnvelope? envelope, HttpContext http, ResultIntake intake, CancellationToken ct) =>
            ToResult(workId, await intake.AcceptAckAsync(http.GetCaller(), workId, envelope, ct)))
            .RequirePermission(Permissions.FleetRun);
        return app;
    }

    private static IResult ToResult(Guid workId, IntakeVerdict verdict) => verdict.Status switch
    {
        IntakeStatus.Accepted => Results.Ok(new { workId, status = "recorded", matched = verdict.Matched }),
        IntakeStatus.AlreadyRecorded => Results.Ok(new { workId, status = "already-recorded", matched = verdict.Matched }),
        IntakeStatus.Invalid => Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid report", detail: verdict.Detail),
        IntakeStatus.Forbidden => Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Report refused", detail: verdict.Detail),
        IntakeStatus.NotFound => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown work", detail: verdict.Detail),
        _ => Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Work not outstanding", detail: verdict.Detail),
    };
}
