using ControlPlane.Identity.Principals;
using ControlPlane.Identity.Tokens;
using ControlPlane.ServiceDefaults.Health;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Identity.Apis;

/// <summary>
/// The development IdP: issues a token for a seeded human without a password. Mapped only in Development with
/// Identity:DevLogin:Enabled; identity refuses to start with it enabled anywhere else.
/// </summary>
public static class DevLoginApi
{
    public sealed record DevLoginRequest(string Principal, string Audience);

    public static IEndpointRouteBuilder MapDevLoginApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/dev/token", async (DevLoginRequest body, PrincipalStore principals, TokenIssuer issuer, CancellationToken ct) =>
        {
            if (!issuer.IsKnownAudience(body.Audience))
            {
                return Results.Problem(statusCode: 400, title: "Unknown audience", detail: $"Ask for one of: {string.Join(", ", issuer.Audiences)}.");
            }

            var principal = await principals.FindAsync(body.Principal, ct);
            if (principal is not { Kind: PrincipalKind.Human, IsActive: true })
            {
                return Results.Problem(statusCode: 404, title: "Unknown human", detail: $"No active human principal '{body.Principal}' is seeded.");
            }

            return TokenEndpoint.TokenResponse(await issuer.IssueAsync(principal.ToTokenSubject(), body.Audience, ct));
        })
        .AllowAnonymous()
        .WithMetadata(new AnonymousByDesign("development IdP, Development environment only"))
        .WithTags("Development");
        return app;
    }

    /// <summary>Fail closed: the dev IdP outside Development is a configuration error, not a warning.</summary>
    public static bool IsEnabled(WebApplicationBuilder builder)
    {
        var enabled = builder.Configuration.GetValue<bool>("Identity:DevLogin:Enabled");
        if (enabled && !builder.Environment.IsDevelopment())
        {
            throw new InvalidOperationException(
                $"Identity:DevLogin:Enabled is true in environment '{builder.Environment.EnvironmentName}'. The development IdP exists only in Development.");
        }

        return enabled;
    }
}
