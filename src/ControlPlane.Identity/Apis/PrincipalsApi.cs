using ControlPlane.Contracts;
using ControlPlane.Identity.Principals;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Identity.Apis;

/// <summary>Principals and their role bindings. Granting and revoking bindings is an admin's act (bindings:write).</summary>
public static class PrincipalsApi
{
    public sealed record BindingRequest(string? Binding);

    public static IEndpointRouteBuilder MapPrincipalsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/principals").WithTags("Principals");

        api.MapGet("/", async (string? kind, PrincipalStore principals, CancellationToken ct) => kind switch
        {
            null or "" => Results.Ok(await principals.ListAsync(null, ct)),
            "human" => Results.Ok(await principals.ListAsync(PrincipalKind.Human, ct)),
            "agent" => Results.Ok(await principals.ListAsync(PrincipalKind.Agent, ct)),
            _ => Results.ValidationProblem(new Dictionary<string, string[]> { ["kind"] = ["Either 'human' or 'agent'."] }),
        }).RequirePermission(Permissions.PrincipalsRead);

        // Any authenticated principal may read itself; reading others needs principals:read.
        api.MapGet("/me", async (HttpContext http, PrincipalStore principals, CancellationToken ct) =>
            await principals.FindAsync(http.GetCaller().Id, ct) is { } me ? Results.Ok(me) : Results.NotFound())
            .RequireAuthorization().WithMetadata(new AuthenticatedByDesign("a caller reads its own principal"));

        api.MapGet("/{id}", async (string id, PrincipalStore principals, CancellationToken ct) =>
            await principals.FindAsync(id, ct) is { } principal
                ? Results.Ok(principal)
                : Results.Problem(statusCode: 404, title: "Unknown principal", detail: $"No principal '{id}'."))
            .RequirePermission(Permissions.PrincipalsRead);

        api.MapGet("/{id}/bindings", async (string id, PrincipalStore principals, CancellationToken ct) =>
            await principals.FindAsync(id, ct) is null
                ? Results.Problem(statusCode: 404, title: "Unknown principal", detail: $"No principal '{id}'.")
                : Results.Ok(await principals.BindingGrantsAsync(id, ct)))
            .RequirePermission(Permissions.PrincipalsRead);

        api.MapPost("/{id}/bindings", async (string id, BindingRequest? body, HttpContext http, PrincipalWriter writer, CancellationToken ct) =>
        {
            if (!RoleBinding.TryParse(body?.Binding ?? string.Empty, out var binding))
            {
                return Results.ValidationProblem(new Dictionary<string, string[]>
                {
                    ["binding"] = [$"Required: a role ({string.Join(", ", Roles.All.Order(StringComparer.Ordinal))}), optionally scoped: role@environment:x, role@node:x or role@team:x."],
                });
            }

            var result = await writer.GrantBindingAsync(id, binding, http.GetCaller().Id, ct);
            return result.ToHttp(principal => Results.Created($"/principals/{Uri.EscapeDataString(id)}/bindings", principal));
        }).RequirePermission(Permissions.BindingsWrite);

        api.MapDelete("/{id}/bindings/{binding}", async (string id, string binding, HttpContext http, PrincipalWriter writer, CancellationToken ct) =>
        {
            if (!RoleBinding.TryParse(binding, out var parsed))
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["binding"] = [$"'{binding}' is not a role binding."] });
            }

            return (await writer.RevokeBindingAsync(id, parsed, http.GetCaller().Id, ct)).ToHttp(_ => Results.NoContent());
        }).RequirePermission(Permissions.BindingsWrite);

        return app;
    }
}
