using System.Net;
using System.Text.Json;
using ControlPlane.Identity.Tests.Infrastructure;
using ControlPlane.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace ControlPlane.Identity.Tests.Authorization;

/// <summary>identity (dev IdP on, codes living 5 s) with policy behind it to accept the exchanged tokens.</summary>
public sealed class ConsoleSignInPlane : PlaneFixture
{
    protected override string Purpose => "console-signin";

    protected override bool WithPolicy => true;

    protected override void Configure(PlaneSettings settings) => settings.Set("Identity:AuthorizationCodeLifetime", "00:00:05");
}

/// <summary>The console's sign-in over HTTP: authorization code + PKCE, per-audience token exchange, end session.</summary>
public sealed class AuthorizationCodeFlowTests(ConsoleSignInPlane fixture) : IClassFixture<ConsoleSignInPlane>
{
    private readonly IdentityPlane _plane = fixture.Plane;

    private static IReadOnlyList<string> Claims(string token, string type) =>
        new JsonWebToken(token).Claims.Where(c => c.Type == type).Select(c => c.Value).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task Discovery_announces_the_code_flow_with_PKCE_and_end_session()
    {
        using var http = _plane.IdentityAnonymous();
        var discovery = JsonDocument.Parse(await http.GetStringAsync(".well-known/openid-configuration")).RootElement;

        Assert.Equal(_plane.IssuerText + "/connect/authorize", discovery.GetProperty("authorization_endpoint").GetString());
        Assert.Equal(_plane.IssuerText + "/connect/endsession", discovery.GetProperty("end_session_endpoint").GetString());
        Assert.Equal(["code"], discovery.GetProperty("response_types_supported").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["S256"], discovery.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(e => e.GetString()));
        var grants = discovery.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("authorization_code", grants);
        Assert.Contains("urn:ietf:params:oauth:grant-type:token-exchange", grants);
    }

    [Fact]
    public async Task A_human_signs_in_on_the_dev_page_gets_an_id_token_and_exchanges_for_a_token_another_service_accepts()
    {
        using var browser = new ConsoleBrowser(_plane);
        using (var page = await browser.AuthorizeAsync(browser.AuthorizeParameters()))
        {
            var html = await page.Content.ReadAsStringAsync();
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains(IdentityPlane.Admin, html, StringComparison.Ordinal);
            Assert.Contains("Vic Viewer", html, StringComparison.Ordinal);
            Assert.Contains("fleet-admin", html, StringComparison.Ordinal);
            Assert.DoesNotContain(IdentityPlane.SeededAgent, html, StringComparison.Ordinal);
            Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());
        }

        var code = await browser.SignInAsync(IdentityPlane.Admin);
        var (status, body, response) = await browser.RedeemAsync(code);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var access = new JsonWebToken(body.GetProperty("access_token").GetString());
        Assert.Equal(["identity"], access.Audiences);
        Assert.Equal(IdentityPlane.Admin, access.Subject);
        Assert.Equal("console", access.GetPayloadValue<string>("client_id"));
        var idToken = body.GetProperty("id_token").GetString()!;
        var id = new JsonWebToken(idToken);
        Assert.Equal(["console"], id.Audiences);
        Assert.Equal(_plane.IssuerText, id.Issuer);
        Assert.Equal(IdentityPlane.Admin, id.Subject);
        Assert.Equal(browser.Nonce, id.GetPayloadValue<string>("nonce"));
        Assert.Equal("Ada Admin", id.GetPayloadValue<string>("name"));
        Assert.Equal(IdentityPlane.Admin, id.GetPayloadValue<string>("email"));
        Assert.Equal(["admin"], Claims(idToken, "roles"));
        Assert.Equal("JWT", id.Typ);

        var (exchanged, exchangeBody, _) = await browser.ExchangeAsync(access.EncodedToken, "policy");
        Assert.Equal(HttpStatusCode.OK, exchanged);
        Assert.Equal("urn:ietf:params:oauth:token-type:access_token", exchangeBody.GetProperty("issued_token_type").GetString());
        var policyToken = exchangeBody.GetProperty("access_token").GetString()!;
        Assert.Equal(["policy"], new JsonWebToken(policyToken).Audiences);
        Assert.Equal(["admin"], Claims(policyToken, "cp_roles"));
        using var policy = _plane.PolicyWith(policyToken);
        Assert.Equal(HttpStatusCode.OK, (await policy.GetAsync("openapi/v1.json")).StatusCode);
        // The id_token is no access token anywhere.
        using var withIdToken = _plane.PolicyWith(idToken);
        Assert.Equal(HttpStatusCode.Unauthorized, (await withIdToken.GetAsync("openapi/v1.json")).StatusCode);

        var outbox = await _plane.OutboxAsync();
        Assert.Contains(outbox, m => m.Type == "HumanSignedIn" && m.Body.GetProperty("humanId").GetString() == IdentityPlane.Admin
            && m.Body.GetProperty("client").GetString() == "console");
    }

    [Fact]
    public async Task A_wrong_PKCE_verifier_is_refused_and_burns_the_code()
    {
        using var browser = new ConsoleBrowser(_plane);
        var code = await browser.SignInAsync(IdentityPlane.Viewer);

        var (wrong, wrongBody, _) = await browser.RedeemAsync(code, verifier: new string('a', 43));
        var (retry, _, _) = await browser.RedeemAsync(code);

        Assert.Equal(HttpStatusCode.BadRequest, wrong);
        Assert.Equal("invalid_grant", wrongBody.GetProperty("error").GetString());
        Assert.False(wrongBody.TryGetProperty("access_token", out _));
        Assert.Equal(HttpStatusCode.BadRequest, retry);
    }

    [Fact]
    public async Task A_code_works_once()
    {
        using var browser = new ConsoleBrowser(_plane);
        var code = await browser.SignInAsync(IdentityPlane.Viewer);

        var (first, _, _) = await browser.RedeemAsync(code);
        var (second, secondBody, _) = await browser.RedeemAsync(code);

        Assert.Equal(HttpStatusCode.OK, first);
        Assert.Equal(HttpStatusCode.BadRequest, second);
        Assert.Equal("invalid_grant", secondBody.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_code_redeemed_with_another_redirect_uri_is_refused()
    {
        using var browser = new ConsoleBrowser(_plane);
        var code = await browser.SignInAsync(IdentityPlane.Viewer);

        var (status, body, _) = await browser.RedeemAsync(code, redirectUri: "http://localhost:5107/elsewhere");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task An_expired_code_is_refused()
    {
        using var browser = new ConsoleBrowser(_plane);
        var code = await browser.SignInAsync(IdentityPlane.Viewer);

        await Task.Delay(TimeSpan.FromSeconds(6));
        var (status, body, _) = await browser.RedeemAsync(code);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("console", "https://evil.example.com/signin-oidc")]
    [InlineData("console", "http://localhost:5107/signin-oidc/")]
    [InlineData("not-a-client", "http://localhost:5107/signin-oidc")]
    public async Task An_unregistered_client_or_redirect_uri_gets_an_error_page_never_a_redirect(string client, string redirectUri)
    {
        using var browser = new ConsoleBrowser(_plane);
        var parameters = browser.AuthorizeParameters(redirectUri);
        parameters["client_id"] = client;

        using var response = await browser.AuthorizeAsync(parameters);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Without_PKCE_the_client_is_sent_back_an_error()
    {
        using var browser = new ConsoleBrowser(_plane);
        var parameters = browser.AuthorizeParameters();
        parameters.Remove("code_challenge");

        using var response = await browser.AuthorizeAsync(parameters);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(ConsoleBrowser.RedirectUri + "?error=invalid_request", response.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("code=", response.Headers.Location!.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sign_in_form_without_its_antiforgery_token_is_refused()
    {
        using var browser = new ConsoleBrowser(_plane);
        using var page = await browser.AuthorizeAsync(browser.AuthorizeParameters());

        using var forged = await browser.PostLoginAsync(await page.Content.ReadAsStringAsync(), IdentityPlane.Admin, withAntiforgery: false);

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Null(forged.Headers.Location);
    }

    [Fact]
    public async Task Token_exchange_refuses_agent_tokens_tokens_of_other_clients_and_unknown_audiences()
    {
        using var browser = new ConsoleBrowser(_plane);
        var agentToken = await _plane.Identity.AgentTokenAsync(IdentityPlane.SeededAgent, "identity");
        var devToken = await _plane.Identity.HumanTokenAsync(IdentityPlane.Admin, "identity");
        var (_, signedIn, _) = await browser.RedeemAsync(await browser.SignInAsync(IdentityPlane.Viewer));
        var viewerToken = signedIn.GetProperty("access_token").GetString()!;

        var (agent, agentBody, _) = await browser.ExchangeAsync(agentToken, "policy");
        var (dev, _, _) = await browser.ExchangeAsync(devToken, "policy");
        var (garbage, _, _) = await browser.ExchangeAsync("not.a.token", "policy");
        var (unknown, unknownBody, _) = await browser.ExchangeAsync(viewerToken, "payroll");

        Assert.Equal(HttpStatusCode.BadRequest, agent);
        Assert.Equal("invalid_grant", agentBody.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, dev);
        Assert.Equal(HttpStatusCode.BadRequest, garbage);
        Assert.Equal(HttpStatusCode.BadRequest, unknown);
        Assert.Equal("invalid_target", unknownBody.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Bindings_are_re_read_at_each_exchange_and_removing_one_ends_the_console_session()
    {
        using var admin = await _plane.IdentityAsAsync(IdentityPlane.Admin);
        using var browser = new ConsoleBrowser(_plane);
        var (_, signedIn, _) = await browser.RedeemAsync(await browser.SignInAsync(IdentityPlane.Auditor));
        var subjectToken = signedIn.GetProperty("access_token").GetString()!;

        var (_, before, _) = await browser.ExchangeAsync(subjectToken, "orchestrator");
        (await IdentityPlane.PostJsonAsync(admin, $"principals/{IdentityPlane.Auditor}/bindings", new { binding = "approver@environment:staging" })).EnsureSuccessStatusCode();
        var (_, granted, _) = await browser.ExchangeAsync(subjectToken, "orchestrator");
        (await admin.DeleteAsync($"principals/{IdentityPlane.Auditor}/bindings/{Uri.EscapeDataString("approver@environment:staging")}")).EnsureSuccessStatusCode();
        var (revoked, revokedBody, _) = await browser.ExchangeAsync(subjectToken, "orchestrator");
        await Task.Delay(TimeSpan.FromSeconds(1.1)); // tokens issued in the second of a revocation are refused too (iat has whole seconds)
        using var again = new ConsoleBrowser(_plane);
        var (_, resigned, _) = await again.RedeemAsync(await again.SignInAsync(IdentityPlane.Auditor));
        var (_, after, _) = await again.ExchangeAsync(resigned.GetProperty("access_token").GetString()!, "orchestrator");

        Assert.Equal(["auditor"], Claims(before.GetProperty("access_token").GetString()!, "cp_roles"));
        Assert.Equal(["approver@environment:staging", "auditor"], Claims(granted.GetProperty("access_token").GetString()!, "cp_roles"));
        // Removing a binding revokes the human's earlier tokens (PrincipalRevoked): the console must sign them in again.
        Assert.Equal(HttpStatusCode.BadRequest, revoked);
        Assert.Equal("invalid_grant", revokedBody.GetProperty("error").GetString());
        Assert.Equal(["auditor"], Claims(after.GetProperty("access_token").GetString()!, "cp_roles"));
    }

    [Fact]
    public async Task End_session_returns_to_a_registered_uri_only_and_records_the_sign_out()
    {
        using var browser = new ConsoleBrowser(_plane);
        var (_, signedIn, _) = await browser.RedeemAsync(await browser.SignInAsync(IdentityPlane.FleetAdmin));
        var idToken = signedIn.GetProperty("id_token").GetString()!;

        using var back = await browser.Http.GetAsync($"connect/endsession?id_token_hint={idToken}&post_logout_redirect_uri={Uri.EscapeDataString(ConsoleBrowser.PostLogoutUri)}&state=s1");
        using var elsewhere = await browser.Http.GetAsync($"connect/endsession?id_token_hint={idToken}&post_logout_redirect_uri={Uri.EscapeDataString("https://evil.example.com/")}");
        using var forged = await browser.Http.GetAsync($"connect/endsession?id_token_hint={signedIn.GetProperty("access_token").GetString()}&post_logout_redirect_uri={Uri.EscapeDataString(ConsoleBrowser.PostLogoutUri)}");

        Assert.Equal(HttpStatusCode.Redirect, back.StatusCode);
        Assert.Equal(ConsoleBrowser.PostLogoutUri + "?state=s1", back.Headers.Location!.ToString());
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
        Assert.Contains("Signed out", await elsewhere.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, forged.StatusCode);
        var outbox = await _plane.OutboxAsync();
        Assert.Equal(2, outbox.Count(m => m.Type == "HumanSignedOut" && m.Body.GetProperty("humanId").GetString() == IdentityPlane.FleetAdmin));
    }
}
