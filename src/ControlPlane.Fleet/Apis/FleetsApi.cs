using ControlPlane.Fleet.Runners;
using ControlPlane.Fleet.Signing;
using ControlPlane.ServiceDefaults.Health;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Fleet.Apis;

/// <summary>The fleets with their live capabilities, and fleet's public work-package keys.</summary>
public static class FleetsApi
{
    public static IEndpointRouteBuilder MapFleetsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/fleet/fleets", async (RunnerRegistry registry, CancellationToken ct) => Results.Ok(await registry.FleetsAsync(ct)))
            .RequirePermission(Permissions.FleetRead)
            .WithTags("Fleets");

        // Public keys only, like a JWKS: runners fetch them before they hold any token, and verifiers offline.
        app.MapGet("/fleet/keys", async (FleetSigningKeys keys, CancellationToken ct) => Results.Ok(await keys.GetPublishedAsync(ct)))
            .AllowAnonymous()
            .WithMetadata(new AnonymousByDesign("fleet's public work-package signing keys, like JWKS"))
            .WithTags("Fleets");
        return app;
    }
}
