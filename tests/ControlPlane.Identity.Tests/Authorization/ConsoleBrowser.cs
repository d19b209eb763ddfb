using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ControlPlane.Identity.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace ControlPlane.Identity.Tests.Authorization;

/// <summary>
/// What the console's OIDC handler and the browser do, over real HTTP against identity: open the authorize URL,
/// read the dev login page, post the chosen human with its antiforgery cookie and token, follow no redirects.
/// </summary>
public sealed partial class ConsoleBrowser : IDisposable
{
    public const string Client = "console";
    public const string RedirectUri = "http://localhost:5107/signin-oidc";
    public const string PostLogoutUri = "http://localhost:5107/signout-callback-oidc";

    private readonly IdentityPlane _plane;

    public ConsoleBrowser(IdentityPlane plane)
    {
        _plane = plane;
        Http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() })
        {
            BaseAddress = plane.Identity.Address,
        };
    }

    public HttpClient Http { get; }

    public string Verifier { get; } = Base64UrlTextEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public string State { get; } = Guid.NewGuid().ToString("N");

    public string Nonce { get; } = Guid.NewGuid().ToString("N");

    public string Challenge => Base64UrlTextEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(Verifier)));

    public Dictionary<string, string> AuthorizeParameters(string redirectUri = RedirectUri) => new()
    {
        ["response_type"] = "code",
        ["client_id"] = Client,
        ["redirect_uri"] = redirectUri,
        ["scope"] = "openid profile",
        ["state"] = State,
        ["nonce"] = Nonce,
        ["code_challenge"] = Challenge,
        ["code_challenge_method"] = "S256",
    };

    public Task<HttpResponseMessage> AuthorizeAsync(Dictionary<string, string> parameters) =>
        Http.GetAsync(QueryHelpers.AddQueryString("connect/authorize", parameters!));

    /// <summary>Signs <paramref name="human"/> in on the login page; returns the code from the redirect to the console.</summary>
    public async Task<string> SignInAsync(string human)
    {
        using var page = await AuthorizeAsync(AuthorizeParameters());
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, $"login page: {(int)page.StatusCode} {html}");
        using var posted = await PostLoginAsync(html, human);
        Assert.True(posted.StatusCode == HttpStatusCode.Redirect, $"sign-in post: {(int)posted.StatusCode} {await posted.Content.ReadAsStringAsync()}");
        var location = posted.Headers.Location!.ToString();
        Assert.StartsWith(RedirectUri + "?", location, StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(new Uri(location).Query);
        Assert.Equal(State, query["state"].ToString());
        return query["code"].ToString();
    }

    public async Task<HttpResponseMessage> PostLoginAsync(string loginPage, string human, bool withAntiforgery = true)
    {
        var form = AuthorizeParameters();
        form["principal"] = human;
        if (withAntiforgery)
        {
            form["__RequestVerificationToken"] = WebUtility.HtmlDecode(AntiforgeryField().Match(loginPage).Groups[1].Value);
        }

        return await Http.PostAsync("connect/authorize", new FormUrlEncodedContent(form));
    }

    public Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> RedeemAsync(string code, string? verifier = null, string redirectUri = RedirectUri) =>
        _plane.TokenRequestAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = redirectUri,
            ["client_id"] = Client,
            ["code_verifier"] = verifier ?? Verifier,
        });

    public Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> ExchangeAsync(string subjectToken, string audience) =>
        _plane.TokenRequestAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "urn:ietf:params:oauth:grant-type:token-exchange",
            ["client_id"] = Client,
            ["subject_token"] = subjectToken,
            ["subject_token_type"] = "urn:ietf:params:oauth:token-type:access_token",
            ["audience"] = audience,
        });

    public void Dispose() => Http.Dispose();

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
