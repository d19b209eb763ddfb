using System.Text;
using System.Text.Encodings.Web;
using ControlPlane.Identity.Principals;

namespace ControlPlane.Identity.Authorization;

/// <summary>
/// The development IdP's sign-in page: one button per active seeded human, each a form that re-posts the
/// authorization request with the antiforgery token. Everything shown is HTML-encoded; the page may not be framed.
/// </summary>
public static class LoginPage
{
    public static IResult Render(HttpContext http, AuthorizeRequest request, IReadOnlyList<Principal> humans, string antiforgeryField, string antiforgeryToken, string? loginHint)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(humans);
        var html = HtmlEncoder.Default;
        var page = new StringBuilder();
        page.Append("""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>ControlPlane sign-in (development)</title>
            <style>body{font-family:system-ui,sans-serif;background:#1e1e1e;color:#eee;margin:2rem}table{border-collapse:collapse}
            td,th{padding:.4rem .8rem;border-bottom:1px solid #444;text-align:left}button{padding:.3rem 1rem}.hint{background:#2d3b4d}</style>
            </head><body><h1>Sign in to ControlPlane</h1>
            <p>Development identity provider: choose a seeded human. This page exists only in Development.</p>
            <table><thead><tr><th>Name</th><th>Id</th><th>Roles</th><th></th></tr></thead><tbody>
            """);
        foreach (var human in humans.OrderBy(h => h.Id != loginHint).ThenBy(h => h.Id, StringComparer.Ordinal))
        {
            page.Append(human.Id == loginHint ? "<tr class=\"hint\">" : "<tr>")
                .Append("<td>").Append(html.Encode(human.DisplayName)).Append("</td><td>").Append(html.Encode(human.Id)).Append("</td><td>")
                .Append(html.Encode(human.Bindings.Count == 0 ? "(none)" : string.Join(", ", human.Bindings))).Append("</td><td>")
                .Append("<form method=\"post\" action=\"authorize\">");
            Hidden(page, antiforgeryField, antiforgeryToken);
            Hidden(page, "response_type", "code");
            Hidden(page, "client_id", request.ClientId);
            Hidden(page, "redirect_uri", request.RedirectUri);
            Hidden(page, "scope", request.Scope);
            Hidden(page, "state", request.State);
            Hidden(page, "nonce", request.Nonce);
            Hidden(page, "code_challenge", request.CodeChallenge);
            Hidden(page, "code_challenge_method", AuthorizeRules.S256);
            Hidden(page, "principal", human.Id);
            page.Append("<button type=\"submit\" data-principal=\"").Append(html.Encode(human.Id)).Append("\">Sign in</button></form></td></tr>");
        }

        page.Append("</tbody></table></body></html>");
        http.Response.Headers.XFrameOptions = "DENY";
        http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";
        http.Response.Headers.CacheControl = "no-store";
        return Results.Content(page.ToString(), "text/html; charset=utf-8");
    }

    /// <summary>The page end-session shows when there is no registered place to send the browser back to.</summary>
    public static IResult SignedOut() => Results.Content(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed out</title></head><body><h1>Signed out</h1><p>You are signed out of ControlPlane.</p></body></html>",
        "text/html; charset=utf-8");

    private static void Hidden(StringBuilder page, string name, string? value)
    {
        if (value is not null)
        {
            page.Append("<input type=\"hidden\" name=\"").Append(HtmlEncoder.Default.Encode(name)).Append("\" value=\"").Append(HtmlEncoder.Default.Encode(value)).Append("\">");
        }
    }
}
