using System.Net;
using ControlPlane.Testing;

namespace ControlPlane.Identity.Tests.Authorization;

/// <summary>Outside Development there is no login page: sign-in goes to the corporate IdP or nowhere.</summary>
public sealed class OutsideDevelopmentTests
{
    [Fact]
    public async Task In_production_the_authorize_endpoint_shows_no_login_page_and_the_sign_in_form_does_not_exist()
    {
        await using var vhost = await TestVirtualHost.CreateAsync("authorize-prod");
        await using var db = await TestDatabase.CreateAsync("identity");
        var settings = new PlaneSettings(vhost, PlaneSettings.NewRedisPrefix())
            .Database("identity-db", db.ConnectionString)
            .Set("Identity:KeyEncryptionKey", "a-test-key-encryption-key-of-enough-length")
            .Set("Identity:Clients:console:RedirectUris:0", ConsoleBrowser.RedirectUri);
        await using var production = new ServiceHost<IdentityService>(settings.Build(), "Production");
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = production.BaseAddress };
        var query = "connect/authorize?response_type=code&client_id=console&scope=openid&code_challenge_method=S256" +
            $"&code_challenge={new string('x', 43)}&redirect_uri={Uri.EscapeDataString(ConsoleBrowser.RedirectUri)}";

        using var page = await http.GetAsync(query);
        using var form = await http.PostAsync("connect/authorize", new FormUrlEncodedContent(new Dictionary<string, string> { ["principal"] = "ada.admin@example.com" }));

        // No corporate IdP configured here: fail closed with a problem, never a page of humans.
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Equal("application/problem+json", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Identity:ExternalIdp", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(page.Headers.Location);
        Assert.Contains(form.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed, HttpStatusCode.Unauthorized });
        Assert.Null(form.Headers.Location);
    }
}

/// <summary>identity without the dev IdP, signing console users in through a corporate IdP over real HTTP.</summary>
public sealed class CorporateIdpPlane : Infrastructure.PlaneFixture
{
    public Infrastructure.FakeIdp Idp { get; private set; } = null!;

    protected override string Purpose => "corporate-signin";

    public override async ValueTask InitializeAsync()
    {
        Idp = await Infrastructure.FakeIdp.StartAsync();
        await base.InitializeAsync();
    }

    protected override void Configure(PlaneSettings settings) => settings
        .Set("Identity:DevLogin:Enabled", "false")
        .Set("Identity:ExternalIdp:Authority", Idp.Issuer)
        .Set("Identity:ExternalIdp:Audience", Infrastructure.FakeIdp.Audience)
        .Set("Identity:ExternalIdp:ClientId", "controlplane-identity")
        .Set("Identity:ExternalIdp:AllowInsecureMetadata", "true")
        .Set("Identity:ExternalIdp:GroupBindings:sre-approvers", "approver@environment:production");

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Idp.DisposeAsync();
    }
}

public sealed class CorporateIdpSignInTests(CorporateIdpPlane fixture) : IClassFixture<CorporateIdpPlane>
{
    [Fact]
    public async Task The_console_sign_in_goes_through_the_corporate_IdP_and_maps_its_groups()
    {
        var plane = fixture.Plane;
        fixture.Idp.SignInAs = ("Corp.Approver@Example.com", ["sre-approvers"]);
        using var browser = new ConsoleBrowser(plane);

        using var toIdp = await browser.AuthorizeAsync(browser.AuthorizeParameters());
        Assert.Equal(HttpStatusCode.Redirect, toIdp.StatusCode);
        var idpUrl = toIdp.Headers.Location!;
        Assert.StartsWith(fixture.Idp.Issuer + "/authorize?", idpUrl.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(browser.State, idpUrl.ToString(), StringComparison.Ordinal); // identity's own state, not the console's
        using var idpHttp = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var backFromIdp = await idpHttp.GetAsync(idpUrl);
        var callback = backFromIdp.Headers.Location!;
        Assert.StartsWith(plane.IssuerText + "/connect/callback/external?", callback.ToString(), StringComparison.Ordinal);
        using var toConsole = await browser.Http.GetAsync(callback);
        using var replay = await browser.Http.GetAsync(callback);

        Assert.Equal(HttpStatusCode.Redirect, toConsole.StatusCode);
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(toConsole.Headers.Location!.Query);
        Assert.Equal(browser.State, query["state"].ToString());
        var (status, body, _) = await browser.RedeemAsync(query["code"].ToString());
        Assert.Equal(HttpStatusCode.OK, status);
        var access = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(body.GetProperty("access_token").GetString());
        Assert.Equal("corp.approver@example.com", access.Subject);
        Assert.Equal(["approver@environment:production"], access.Claims.Where(c => c.Type == "cp_roles").Select(c => c.Value));
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Null(replay.Headers.Location);
    }
}
