using ControlPlane.Identity.Principals;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Identity.Apis;

/// <summary>Agents as workload identities: registration by a fleet-admin, credentials, revocation.</summary>
public static class AgentsApi
{
    public sealed record AgentView(Principal Agent, IReadOnlyList<CredentialInfo> Credentials);

    public sealed record RevokeAgentRequest(string? Reason);

    public static IEndpointRouteBuilder MapAgentsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/agents").WithTags("Agents");

        api.MapPost("/", async (AgentRegistration body, HttpContext http, PrincipalWriter writer, CancellationToken ct) =>
        {
            var errors = AgentRules.Validate(body);
            if (errors.Count > 0)
            {
                return Results.ValidationProblem(errors);
            }

            var result = await writer.RegisterAgentAsync(body, http.GetCaller().Id, ct);
            return result.ToHttp(agent => Results.Created($"/agents/{Uri.EscapeDataString(agent.Id)}", new AgentView(agent, [])));
        }).RequirePermission(Permissions.AgentsWrite);

        api.MapGet("/", async (PrincipalStore principals, CancellationToken ct) =>
            Results.Ok(await principals.ListAsync(PrincipalKind.Agent, ct)))
            .RequirePermission(Permissions.PrincipalsRead);

        api.MapGet("/{id}", async (string id, PrincipalStore principals, CancellationToken ct) =>
            await principals.FindAsync(id, ct) is { Kind: PrincipalKind.Agent } agent
                ? Results.Ok(new AgentView(agent, await principals.CredentialsAsync(id, ct)))
                : Results.Problem(statusCode: 404, title: "Unknown agent", detail: $"No agent '{id}'."))
            .RequirePermission(Permissions.PrincipalsRead);

        api.MapPost("/{id}/secrets", async (string id, HttpContext http, PrincipalWriter writer, CancellationToken ct) =>
        {
            var result = await writer.IssueSecretAsync(id, http.GetCaller().Id, ct);
            // The only time the secret exists outside the agent: never cached on the way.
            http.Response.Headers.CacheControl = "no-store";
            return result.ToHttp(issued => Results.Created($"/agents/{Uri.EscapeDataString(id)}", issued));
        }).RequirePermission(Permissions.AgentsWrite);

        api.MapDelete("/{id}/secrets/{credentialId}", async (string id, string credentialId, HttpContext http, PrincipalWriter writer, CancellationToken ct) =>
            (await writer.RevokeSecretAsync(id, credentialId, http.GetCaller().Id, ct)).ToHttp(_ => Results.NoContent()))
            .RequirePermission(Permissions.AgentsWrite);

        api.MapPost("/{id}/keys", async (string id, AgentKeyRequest? body, HttpContext http, PrincipalWriter writer, CancellationToken ct) =>
        {
            var (key, errors) = AgentKeyRules.Parse(body);
            if (key is null)
            {
                return Results.ValidationProblem(errors);
            }

            var result = await writer.AddKeyAsync(id, key, http.GetCaller().Id, ct);
            return result.ToHttp(added => Results.Created($"/agents/{Uri.EscapeDataString(id)}", added));
        }).RequirePermission(Permissions.AgentsWrite);

        api.MapDelete("/{id}/keys/{kid}", async (string id, string kid, HttpContext http, PrincipalWriter writer, CancellationToken ct) =>
            (await writer.RevokeKeyAsync(id, kid, http.GetCaller().Id, ct)).ToHttp(_ => Results.NoContent()))
            .RequirePermission(Permissions.AgentsWrite);

        api.MapPost("/{id}/revoke", async (string id, RevokeAgentRequest? body, HttpContext http, PrincipalWriter writer, CancellationToken ct) =>
        {
            if (body?.Reason is { Length: > 500 })
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["reason"] = ["At most 500 characters."] });
            }

            var caller = http.GetCaller().Id;
            var reason = string.IsNullOrWhiteSpace(body?.Reason) ? $"revoked by {caller}" : body.Reason.Trim();
            return (await writer.DisableAgentAsync(id, reason, caller, ct)).ToHttp(Results.Ok);
        }).RequirePermission(Permissions.AgentsWrite);

        return app;
    }
}
