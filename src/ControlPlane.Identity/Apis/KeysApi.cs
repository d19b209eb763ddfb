using ControlPlane.Identity.Keys;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Identity.Apis;

/// <summary>Signing-key rotation on demand (the scheduled rotation runs by itself: KeyRotationService).</summary>
public static class KeysApi
{
    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/keys/rotate", async (HttpContext http, SigningKeyStore keys, CancellationToken ct) =>
            Results.Ok(await keys.RotateAsync(http.GetCaller().Id, ct)))
            .RequirePermission(Permissions.KeysRotate)
            .WithTags("Keys");
        return app;
    }
}
