using ControlPlane.Identity.Authorization;
using ControlPlane.Identity.Principals;
using ControlPlane.ServiceDefaults.Health;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.AspNetCore.Antiforgery;
using StackExchange.Redis;

namespace ControlPlane.Identity.Apis;

/// <summary>
/// OIDC authorization code with PKCE for the interactive clients (the console), and RP-initiated logout. Anonymous
/// by design: these are where a browser without a session arrives. In Development with the dev IdP the human is
/// chosen on a login page; otherwise the corporate IdP signs them in.
/// </summary>
public static class AuthorizeApi
{
    public static IEndpointRouteBuilder MapAuthorizeApi(this IEndpointRouteBuilder app, bool devLogin)
    {
        app.MapGet("/connect/authorize", async (HttpContext http, OidcClients clients, PrincipalStore principals, ExternalAuthorization external,
            IAntiforgery antiforgery, CancellationToken ct) =>
        {
            var (request, error) = AuthorizeRules.Validate(key => Value(http.Request.Query[key]), clients);
            if (request is null)
            {
                return Refuse(error!, Value(http.Request.Query["redirect_uri"]), Value(http.Request.Query["state"]));
            }

            if (devLogin)
            {
                var humans = (await principals.ListAsync(PrincipalKind.Human, ct)).Where(h => h.IsActive).ToList();
                var tokens = antiforgery.GetAndStoreTokens(http);
                return LoginPage.Render(http, request, humans, tokens.FormFieldName, tokens.RequestToken!, Value(http.Request.Query["login_hint"]));
            }

            if (!external.IsConfigured)
            {
                return Results.Problem(statusCode: 400, title: "No identity provider",
                    detail: "Sign-in needs the corporate IdP (Identity:ExternalIdp:Authority, :Audience and :ClientId).");
            }

            return await StoreAvailable(async () => Results.Redirect(await external.BeginAsync(request, ct)));
        })
        .AllowAnonymous()
        .WithMetadata(new AnonymousByDesign("OIDC authorization endpoint: where a browser without a session starts signing in"))
        .WithTags("Sign-in");

        if (devLogin)
        {
            app.MapPost("/connect/authorize", async (HttpContext http, OidcClients clients, PrincipalStore principals, AuthorizationCodeStore codes,
                IAntiforgery antiforgery, TimeProvider clock, CancellationToken ct) =>
            {
                if (!http.Request.HasFormContentType)
                {
                    return Results.Problem(statusCode: 400, title: "Form expected", detail: "Post the sign-in form.");
                }

                var form = await http.Request.ReadFormAsync(ct);
                if (!await antiforgery.IsRequestValidAsync(http))
                {
                    return Results.Problem(statusCode: 400, title: "Antiforgery check failed", detail: "Reload the sign-in page and choose again.");
                }

                var (request, error) = AuthorizeRules.Validate(key => Value(form[key]), clients);
                if (request is null)
                {
                    return Refuse(error!, Value(form["redirect_uri"]), Value(form["state"]));
                }

                var human = await principals.FindAsync(form["principal"].ToString(), ct);
                if (human is not { Kind: PrincipalKind.Human, IsActive: true })
                {
                    return Results.Problem(statusCode: 400, title: "Unknown human", detail: "Choose an active seeded human.");
                }

                return await StoreAvailable(async () => Results.Redirect(AuthorizeRules.RedirectWith(request.RedirectUri, new Dictionary<string, string?>
                {
                    ["code"] = await codes.IssueAsync(new IssuedCode(request.ClientId, request.RedirectUri, request.CodeChallenge, request.Nonce, human.Id, clock.GetUtcNow())),
                    ["state"] = request.State,
                })));
            })
            .AllowAnonymous()
            .DisableAntiforgery() // checked in the handler, to answer a problem instead of an exception
            .WithMetadata(new AnonymousByDesign("development IdP sign-in form, Development environment only; antiforgery-protected"))
            .WithTags("Development");
        }

        app.MapGet(ExternalAuthorization.CallbackPath, async (HttpContext http, ExternalAuthorization external, CancellationToken ct) =>
        {
            var query = http.Request.Query;
            return await StoreAvailable(async () =>
            {
                var (request, code, failure) = await external.CompleteAsync(Value(query["state"]), Value(query["code"]), Value(query["error"]), ct);
                if (request is null)
                {
                    return Results.Problem(statusCode: 400, title: "Sign-in failed", detail: failure);
                }

                return Results.Redirect(AuthorizeRules.RedirectWith(request.RedirectUri, code is null
                    ? new Dictionary<string, string?> { ["error"] = "access_denied", ["error_description"] = failure, ["state"] = request.State }
                    : new Dictionary<string, string?> { ["code"] = code, ["state"] = request.State }));
            });
        })
        .AllowAnonymous()
        .WithMetadata(new AnonymousByDesign("redirect target of the corporate IdP's sign-in"))
        .WithTags("Sign-in");

        app.MapGet("/connect/endsession", async (HttpContext http, EndSession endSession, CancellationToken ct) =>
        {
            var query = http.Request.Query;
            var target = await endSession.SignOutAsync(Value(query["id_token_hint"]), Value(query["post_logout_redirect_uri"]), Value(query["state"]), ct);
            return target is null ? LoginPage.SignedOut() : Results.Redirect(target);
        })
        .AllowAnonymous()
        .WithMetadata(new AnonymousByDesign("OIDC end-session endpoint: the id_token_hint names who signs out"))
        .WithTags("Sign-in");
        return app;
    }

    private static string? Value(Microsoft.Extensions.Primitives.StringValues value) => value.Count == 1 && value[0] is { Length: > 0 } text ? text : null;

    private static IResult Refuse(AuthorizeError error, string? redirectUri, string? state) => error.Redirect
        ? Results.Redirect(AuthorizeRules.RedirectWith(redirectUri!, new Dictionary<string, string?>
        {
            ["error"] = error.Error,
            ["error_description"] = error.Description,
            ["state"] = state,
        }))
        : Results.Problem(statusCode: 400, title: "Invalid authorization request", detail: error.Description, extensions: new Dictionary<string, object?> { ["error"] = error.Error });

    /// <summary>The code store is Redis: unreachable means no sign-in now (503), never a half sign-in.</summary>
    private static async Task<IResult> StoreAvailable(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (RedisException)
        {
            return Results.Problem(statusCode: 503, title: "Sign-in unavailable", detail: "The sign-in store is unreachable; try again shortly.");
        }
    }
}
