using ControlPlane.Identity.Tokens;
using ControlPlane.ServiceDefaults.Health;

namespace ControlPlane.Identity.Apis;

/// <summary>The OAuth 2.0 token endpoint. Anonymous by design: the client (or the IdP token) authenticates in the request.</summary>
public static class TokenApi
{
    public static IEndpointRouteBuilder MapTokenApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/connect/token", (HttpContext http, TokenEndpoint endpoint, CancellationToken ct) => endpoint.HandleAsync(http, ct))
            .AllowAnonymous()
            .DisableAntiforgery()
            .WithMetadata(new AnonymousByDesign("OAuth token endpoint: the client authenticates in the request"))
            .WithTags("Tokens");
        return app;
    }
}
