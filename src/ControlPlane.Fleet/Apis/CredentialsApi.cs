using ControlPlane.Contracts;
using ControlPlane.Fleet.Credentials;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Fleet.Apis;

/// <summary>
/// Target systems check a package credential presented to them (RFC 7662 token introspection, form field token):
/// only principals holding credentials:introspect through a node-scoped binding, and only for those nodes.
/// </summary>
public static class CredentialsApi
{
    public static IEndpointRouteBuilder MapCredentialsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/fleet/credentials/introspect", IntrospectAsync)
            .RequirePermission(Permissions.CredentialsIntrospect)
            .WithTags("Credentials");
        return app;
    }

    private static async Task<IResult> IntrospectAsync(HttpContext http, CredentialIntrospector introspector, CancellationToken ct)
    {
        if (!http.Request.HasFormContentType)
        {
            return Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Form expected",
                detail: "POST application/x-www-form-urlencoded with the field token (RFC 7662)");
        }

        var caller = http.GetCaller();
        if (IntrospectionRules.CallerAudiences(caller).Count == 0)
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "No audience",
                detail: "the caller's identity names no target system it checks for: a binding like target-system@node:<node id> is required");
        }

        IFormCollection form;
        try
        {
            form = await http.Request.ReadFormAsync(ct);
        }
        catch (InvalidDataException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Unreadable form", detail: ex.Message);
        }

        var answer = await introspector.IntrospectAsync(form["token"].FirstOrDefault(), caller, ct);
        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(answer, ContractJson.Options);
    }
}
