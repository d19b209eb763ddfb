using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using ControlPlane.ServiceDefaults.Http;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace ControlPlane.Console.SignIn;

/// <summary>
/// Sign-in as a named human: OIDC authorization code with PKCE against identity (client `console`, public, no
/// secret), a cookie holding only a session id, and the tokens kept server-side in <see cref="SessionTokens"/>.
/// The cookie lives as long as the human's token; secure outside Development.
/// </summary>
public static class ConsoleSignIn
{
    public const string SessionClaim = "cp_console_session";

    public static WebApplicationBuilder AddConsoleSignIn(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var development = builder.Environment.IsDevelopment();
        var secure = development ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SessionTokens>();
        builder.Services.AddSingleton<TokenExchange>();
        builder.Services.AddServiceClient("identity");
        builder.Services.AddExceptionHandler<IdentityUnreachable>();

        builder.Services.AddAuthentication(o =>
            {
                o.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                o.DefaultAuthenticateScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                o.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
            })
            .AddCookie(o =>
            {
                o.Cookie.Name = "controlplane-console";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = secure;
                o.SlidingExpiration = false;
                o.AccessDeniedPath = "/";
                // A session the server no longer holds (expired, signed out, console restarted) is no session.
                o.Events.OnValidatePrincipal = context =>
                {
                    var sessions = context.HttpContext.RequestServices.GetRequiredService<SessionTokens>();
                    if (sessions.Find(context.Principal?.FindFirstValue(SessionClaim)) is null)
                    {
                        context.RejectPrincipal();
                    }

                    return Task.CompletedTask;
                };
            })
            .AddOpenIdConnect(o =>
            {
                var identity = ServiceEndpoints.Resolve(configuration, "identity");
                o.Authority = identity.ToString().TrimEnd('/');
                // As every service: identity over plain HTTP only in Development or where the mesh terminates TLS.
                o.RequireHttpsMetadata = !development && !configuration.GetValue<bool>("Identity:AllowInsecureMetadata");
                o.ClientId = configuration["Console:ClientId"] ?? "console";
                o.ResponseType = OpenIdConnectResponseType.Code;
                o.ResponseMode = OpenIdConnectResponseMode.Query;
                o.UsePkce = true;
                o.Scope.Clear();
                o.Scope.Add("openid");
                o.Scope.Add("profile");
                o.MapInboundClaims = false;
                o.GetClaimsFromUserInfoEndpoint = false;
                o.UseTokenLifetime = true;
                o.SaveTokens = false;
                o.TokenValidationParameters.NameClaimType = "name";
                o.TokenValidationParameters.RoleClaimType = "roles";
                o.CorrelationCookie.SameSite = SameSiteMode.Lax;
                o.CorrelationCookie.SecurePolicy = secure;
                o.NonceCookie.SameSite = SameSiteMode.Lax;
                o.NonceCookie.SecurePolicy = secure;
                o.Events.OnTokenValidated = StartSession;
                o.Events.OnRemoteFailure = context =>
                {
                    context.Response.Redirect("/signed-out?error=" + Uri.EscapeDataString(context.Failure?.Message ?? "sign-in failed"));
                    context.HandleResponse();
                    return Task.CompletedTask;
                };
            });
        return builder;
    }

    /// <summary>Keeps the access token in the server under a new session id; the cookie gets the id and the id_token (for sign-out's hint).</summary>
    private static Task StartSession(TokenValidatedContext context)
    {
        var response = context.TokenEndpointResponse ?? throw new InvalidOperationException("No token response in a code flow.");
        var human = context.Principal!.FindFirstValue("sub") ?? throw new InvalidOperationException("The id_token names no subject.");
        var expiresAt = int.TryParse(response.ExpiresIn, out var seconds)
            ? DateTimeOffset.UtcNow.AddSeconds(seconds)
            : new DateTimeOffset(new JwtSecurityToken(response.AccessToken).ValidTo, TimeSpan.Zero);
        var sessions = context.HttpContext.RequestServices.GetRequiredService<SessionTokens>();
        var id = sessions.Start(human, response.AccessToken, expiresAt);
        ((ClaimsIdentity)context.Principal!.Identity!).AddClaim(new Claim(SessionClaim, id));
        context.Properties!.ExpiresUtc = expiresAt;
        context.Properties.StoreTokens([new AuthenticationToken { Name = "id_token", Value = response.IdToken }]);
        return Task.CompletedTask;
    }

    public static WebApplication MapAccountEndpoints(this WebApplication app)
    {
        // POST with the antiforgery token: another site cannot sign a human out.
        app.MapPost("/account/signout", async (HttpContext http, SessionTokens sessions) =>
        {
            sessions.End(http.User.FindFirstValue(SessionClaim));
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            await http.SignOutAsync(OpenIdConnectDefaults.AuthenticationScheme, new AuthenticationProperties { RedirectUri = "/signed-out" });
        }).RequireAuthorization().WithMetadata(new RequireAntiforgeryTokenAttribute());

        app.MapGet("/signed-out", (string? error) => Results.Content(SignedOutPage(error), "text/html; charset=utf-8"))
            .AllowAnonymous().WithMetadata(new ControlPlane.ServiceDefaults.Health.AnonymousByDesign("the page shown after sign-out or a failed sign-in"));
        return app;
    }

    private static string SignedOutPage(string? error) =>
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ControlPlane console</title>" +
        "<style>body{font-family:'Segoe UI',system-ui,sans-serif;margin:4rem;color:#242424}a{color:#0f6cbd}</style></head><body>" +
        "<h1>ControlPlane console</h1>" +
        (error is null ? "<p>You are signed out.</p>" : $"<p role=\"alert\">Sign-in failed: {System.Net.WebUtility.HtmlEncode(error)}</p>") +
        "<p><a href=\"/\">Sign in</a></p></body></html>";

    /// <summary>The framework's and the components' scripts and styles, needed before anyone has signed in.</summary>
    public static WebApplication MapConsoleAssets(this WebApplication app)
    {
        app.MapStaticAssets().AllowAnonymous().WithMetadata(new ControlPlane.ServiceDefaults.Health.AnonymousByDesign("static scripts and styles"));
        return app;
    }
}
