using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Orchestrator.AgentNotifications;

/// <summary>Answer to creating a webhook or rotating its secret: the only time the secret is shown.</summary>
public sealed record WebhookSecretIssued(WebhookView Webhook, string Secret);

/// <summary>
/// /agents/me/webhook: an agent registers, replaces, reads and deletes the webhook that receives its own proposals'
/// state changes. The agent is the token's subject, never a path or body value, so no agent reaches another's
/// registration.
/// </summary>
public static class AgentWebhooksApi
{
    public const string Path = "/agents/me/webhook";

    public static IEndpointRouteBuilder MapAgentWebhooksApi(this IEndpointRouteBuilder app)
    {
        // Whoever may submit proposals may follow its own: the registration is the caller's (the token's subject).
        var api = app.MapGroup(Path).WithTags("Agent webhooks").RequirePermission(Permissions.ProposalsSubmit);
        api.MapPut("/", PutAsync)
            .WithSummary("Register or replace the calling agent's webhook {url, states?}. 201 with the signing secret on creation (shown once); 200 on replacement (secret kept).");
        api.MapGet("/", GetAsync).WithSummary("The calling agent's webhook (never the secret).");
        api.MapDelete("/", DeleteAsync).WithSummary("Remove the calling agent's webhook; pending deliveries are recorded as failed.");
        api.MapPost("/secret", RotateAsync).WithSummary("Replace the signing secret; the new one is shown once and signs every later attempt.");
        api.MapGet("/deliveries", DeliveriesAsync)
            .WithSummary("The calling agent's recent deliveries, newest first; filter by status (pending, delivered, failed) and proposalId.");
        return app;
    }

    private static async Task<IResult> PutAsync(HttpContext http, NpgsqlDataSource dataSource, AgentWebhookSecrets secrets, IHostEnvironment environment,
        IOptions<AgentWebhookOptions> options, TimeProvider clock, CancellationToken ct)
    {
        if (!http.Request.HasJsonContentType())
        {
            return Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "The body must be JSON (Content-Type: application/json).");
        }

        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: ct);
        }
        catch (JsonException)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["The body is not valid JSON."] });
        }

        var (webhook, errors) = WebhookRegistration.Validate(body, allowLoopbackHttp: environment.IsDevelopment(),
            allowPrivateAddresses: environment.IsDevelopment() || options.Value.AllowPrivateNetworks);
        if (webhook is null)
        {
            return Results.ValidationProblem(errors, title: "The webhook registration is not valid");
        }

        var agent = http.GetCaller().Id;
        var (secret, protectedSecret) = secrets.Create();
        var created = await AgentWebhookStore.UpsertAsync(dataSource, agent, webhook, protectedSecret, clock.GetUtcNow(), ct);
        var view = (await AgentWebhookStore.GetAsync(dataSource, agent, ct))!;
        return created ? Results.Created(Path, new WebhookSecretIssued(view, secret)) : Results.Ok(view);
    }

    private static async Task<IResult> GetAsync(HttpContext http, NpgsqlDataSource dataSource, CancellationToken ct) =>
        await AgentWebhookStore.GetAsync(dataSource, http.GetCaller().Id, ct) is { } view ? Results.Ok(view) : NotRegistered();

    private static async Task<IResult> DeleteAsync(HttpContext http, NpgsqlDataSource dataSource, TimeProvider clock, CancellationToken ct) =>
        await AgentWebhookStore.DeleteAsync(dataSource, http.GetCaller().Id, clock.GetUtcNow(), ct) ? Results.NoContent() : NotRegistered();

    private static async Task<IResult> RotateAsync(HttpContext http, NpgsqlDataSource dataSource, AgentWebhookSecrets secrets, TimeProvider clock,
        CancellationToken ct)
    {
        var agent = http.GetCaller().Id;
        var (secret, protectedSecret) = secrets.Create();
        if (!await AgentWebhookStore.RotateSecretAsync(dataSource, agent, protectedSecret, clock.GetUtcNow(), ct))
        {
            return NotRegistered();
        }

        return Results.Ok(new WebhookSecretIssued((await AgentWebhookStore.GetAsync(dataSource, agent, ct))!, secret));
    }

    private static async Task<IResult> DeliveriesAsync(string? status, Guid? proposalId, int? limit, HttpContext http, NpgsqlDataSource dataSource,
        CancellationToken ct)
    {
        if (status is not (null or AgentWebhookStore.Pending or AgentWebhookStore.Delivered or AgentWebhookStore.Failed))
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["status"] = ["Must be pending, delivered or failed."] });
        }

        if (limit is < 1 or > 500)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = ["Must be 1-500."] });
        }

        return Results.Ok(await AgentWebhookStore.ListDeliveriesAsync(dataSource, http.GetCaller().Id, status, proposalId, limit ?? 100, ct));
    }

    private static IResult NotRegistered() => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No webhook",
        detail: $"The calling agent has no webhook; register one with PUT {Path}.");
}
