using ControlPlane.Identity.Principals;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Identity.Apis;

public static class PrincipalsApi
{
    public static IEndpointRouteBuilder MapPrincipalsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/principals").WithTags("Principals");

        // Any authenticated principal may read itself; reading others needs principals:read.
        api.MapGet("/me", async (HttpContext http, PrincipalStore principals, CancellationToken ct) =>
            await principals.FindAsync(http.GetCaller().Id, ct) is { } me ? Results.Ok(me) : Results.NotFound())
            .RequireAuthorization().WithMetadata(new AuthenticatedByDesign("a caller reads its own principal"));

        api.MapGet("/{id}", async (string id, PrincipalStore principals, CancellationToken ct) =>
            await principals.FindAsync(id, ct) is { } principal
                ? Results.Ok(principal)
                : Results.Problem(statusCode: 404, title: "Unknown principal", detail: $"No principal '{id}'."))
            .RequirePermission(Permissions.PrincipalsRead);
        return app;
    }
}
