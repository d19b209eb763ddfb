using System.Globalization;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Approvals;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Orchestrator.Apis;

/// <summary>
/// Body of POST /proposals/{id}/approvals. Pins are optional: when given they must match what is current.
/// PlanHash: the digest of the validation plan the approver saw (the proposal view's planHash).
/// </summary>
public sealed record ApprovalRequest(string? Decision, string? Comment, string? ProposalHash, long? GraphVersion, string? PolicyHash,
    string? PlanHash = null);

/// <summary>Body of POST /proposals/{id}/cancel (optional).</summary>
public sealed record CancelRequest(string? Reason);

/// <summary>202 body of POST /proposals.</summary>
public sealed record SubmissionAccepted(Guid Id, ProposalState State, bool Duplicate);

/// <summary>Body of a successful approval or cancellation.</summary>
public sealed record CommandAccepted(Guid Id, ProposalState State, int? Approvals, int? Required);

public static class ProposalsApi
{
    public const string Channel = "http";

    public static IEndpointRouteBuilder MapProposalsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/proposals").WithTags("Proposals");

        api.MapPost("/", SubmitAsync).RequirePermission(Permissions.ProposalsSubmit)
            .WithSummary("Submit a proposal (agent). 202 with Location; same idempotency key and body returns the same proposal.");
        api.MapGet("/{id:guid}", GetAsync).RequirePermission(Permissions.ProposalsRead)
            .WithSummary("A proposal with impact, decision, approvals and history. Agents see only their own unless they hold viewer.");
        api.MapGet("/", ListAsync).RequirePermission(Permissions.ProposalsRead)
            .WithSummary("Proposals visible to the caller, newest first; filter by state and environment.");
        api.MapPost("/{id:guid}/approvals", ApproveAsync).RequirePermission(Permissions.ProposalsApprove)
            .WithSummary("Approve or reject as a named human holding an approver binding over the proposal.");
        api.MapPost("/{id:guid}/cancel", CancelAsync).RequirePermission(Permissions.ProposalsCancel).Accepts(typeof(CancelRequest), isOptional: true, "application/json")
            .WithSummary("Cancel before execution: the proposing agent or a human operator.");
        return app;
    }

    private static async Task<IResult> SubmitAsync(SubmitProposal? body, HttpContext http, ProposalIntake intake, CancellationToken ct)
    {
        var result = await intake.SubmitAsync(http.GetCaller(), body, Channel, ct);
        switch (result)
        {
            case IntakeResult.Accepted accepted:
                return Results.Accepted($"/proposals/{accepted.ProposalId}", new SubmissionAccepted(accepted.ProposalId, accepted.State, accepted.Duplicate));
            case IntakeResult.Invalid invalid:
                return Results.ValidationProblem(invalid.Errors, title: "The proposal is not valid");
            case IntakeResult.Conflict conflict:
                return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Idempotency key conflict", detail: conflict.Detail);
            case IntakeResult.RateLimited limited:
                var seconds = Math.Max(1, (int)Math.Ceiling(limited.RetryAfter.TotalSeconds));
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many proposals",
                    detail: $"The proposal intake limit for this principal is reached; retry in {seconds} s.");
            default:
                throw new InvalidOperationException($"Unhandled intake result {result.GetType().Name}.");
        }
    }

    private static async Task<IResult> GetAsync(Guid id, HttpContext http, ProposalQueries queries, CancellationToken ct) =>
        await queries.GetAsync(http.GetCaller(), id, ct) is { } view ? Results.Ok(view) : NotFound(id);

    private static async Task<IResult> ListAsync(string? state, string? environment, int? limit, HttpContext http, ProposalQueries queries,
        SubmissionValidator validator, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        ProposalState? filter = null;
        if (state is not null)
        {
            if (StateNames.TryParse(state, out var parsed))
            {
                filter = parsed;
            }
            else
            {
                errors["state"] = [$"Unknown state '{(state.Length > 40 ? state[..40] : state)}'."];
            }
        }

        if (environment is not null && !validator.Environments.Contains(environment))
        {
            errors["environment"] = [$"Unknown environment; expected one of: {string.Join(", ", validator.Environments)}."];
        }

        if (limit is < 1 or > ProposalQueries.MaxLimit)
        {
            errors["limit"] = [$"Must be 1-{ProposalQueries.MaxLimit}."];
        }

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        return Results.Ok(await queries.ListAsync(http.GetCaller(), filter, environment, limit ?? 50, ct));
    }

    private static async Task<IResult> ApproveAsync(Guid id, ApprovalRequest? body, HttpContext http, ProposalCommands commands, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        ApprovalDecision? decision = body?.Decision switch
        {
            "approve" => ApprovalDecision.Approve,
            "reject" => ApprovalDecision.Reject,
            _ => null,
        };
        if (decision is null)
        {
            errors["decision"] = ["Must be 'approve' or 'reject'."];
        }

        if (body?.Comment is { Length: > 2000 })
        {
            errors["comment"] = ["At most 2000 characters."];
        }

        if (body?.ProposalHash is { Length: > 200 })
        {
            errors["proposalHash"] = ["At most 200 characters."];
        }

        if (body?.PolicyHash is { Length: > 200 })
        {
            errors["policyHash"] = ["At most 200 characters."];
        }

        if (body?.PlanHash is { Length: > 200 })
        {
            errors["planHash"] = ["At most 200 characters."];
        }

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        var pins = new ApprovalPins(body!.ProposalHash, body.GraphVersion, body.PolicyHash, body.PlanHash);
        var comment = string.IsNullOrWhiteSpace(body.Comment) ? null : body.Comment;
        return ToResult(id, await commands.DecideAsync(http.GetCaller(), id, decision!.Value, comment, pins, ct));
    }

    private static async Task<IResult> CancelAsync(Guid id, HttpContext http, ProposalCommands commands, CancellationToken ct)
    {
        // The body is optional: a bare POST cancels without a reason.
        CancelRequest? body = null;
        if (http.Request.ContentLength > 0 || http.Request.Headers.ContentType.Count > 0)
        {
            if (!http.Request.HasJsonContentType())
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["Send application/json {reason}, or no body."] });
            }

            try
            {
                body = await http.Request.ReadFromJsonAsync<CancelRequest>(ct);
            }
            catch (System.Text.Json.JsonException)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["Not valid JSON: expected {reason}."] });
            }
        }

        if (body?.Reason is { Length: > 500 })
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["reason"] = ["At most 500 characters."] });
        }

        return ToResult(id, await commands.CancelAsync(http.GetCaller(), id, body?.Reason, ct));
    }

    private static IResult ToResult(Guid id, CommandResult result) => result switch
    {
        CommandResult.Done done => Results.Ok(new CommandAccepted(done.ProposalId, done.State,
            done.Required > 0 ? done.Approvals : null, done.Required > 0 ? done.Required : null)),
        CommandResult.NotFound => NotFound(id),
        CommandResult.Forbidden forbidden => Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: forbidden.Reason),
        CommandResult.Conflict conflict => Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: conflict.Reason),
        _ => throw new InvalidOperationException($"Unhandled command result {result.GetType().Name}."),
    };

    private static IResult NotFound(Guid id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown proposal", detail: $"No proposal {id} is visible to the caller.");
}
