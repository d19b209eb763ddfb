using System.Net;
using ControlPlane.Identity.Tests.Infrastructure;
using ControlPlane.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace ControlPlane.Identity.Tests.TokenEndpoint;

/// <summary>identity serving one resource indicator (an MCP server's canonical URI) beside its service audiences.</summary>
public sealed class WithMcpResource : PlaneFixture
{
    public const string Resource = "https://orchestrator.example.test/mcp";

    protected override string Purpose => "id-resource";

    protected override void Configure(PlaneSettings settings) => settings.Set("Identity:Resources:0", Resource);
}

/// <summary>RFC 8707 resource indicators at POST /connect/token: the token's audience is the resource named.</summary>
public sealed class ResourceIndicatorTests(WithMcpResource fixture) : IClassFixture<WithMcpResource>
{
    private readonly IdentityPlane _plane = fixture.Plane;

    private Task<(HttpStatusCode Status, System.Text.Json.JsonElement Body, HttpResponseMessage Response)> RequestAsync(params (string Key, string Value)[] fields)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        foreach (var (key, value) in fields)
        {
            form[key] = value;
        }

        return _plane.TokenRequestAsync(form, IdentityPlane.SeededAgent, TestIdentity.AgentSecret);
    }

    [Fact]
    public async Task Client_credentials_with_a_known_resource_issue_a_token_whose_only_audience_is_that_resource()
    {
        var (status, body, response) = await RequestAsync(("resource", WithMcpResource.Resource));
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, status);
        }

        var token = new JsonWebToken(body.GetProperty("access_token").GetString());
        Assert.Equal([WithMcpResource.Resource], token.Audiences);
        Assert.Equal(IdentityPlane.SeededAgent, token.Subject);
        Assert.Equal("at+jwt", token.Typ);
        Assert.Equal(_plane.IssuerText, token.Issuer);
    }

    [Theory]
    [InlineData("https://elsewhere.example.test/mcp", "Unknown resource")]
    [InlineData("https://orchestrator.example.test/mcp#tools", "without a fragment")]
    [InlineData("/mcp", "absolute http(s) URI")]
    [InlineData("orchestrator", "absolute http(s) URI")]
    public async Task An_unknown_or_malformed_resource_is_invalid_target(string resource, string says)
    {
        var (status, body, response) = await RequestAsync(("resource", resource));
        response.Dispose();
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_target", body.GetProperty("error").GetString());
        Assert.Contains(says, body.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("access_token", body.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_resource_beside_an_audience_is_invalid_target_rather_than_a_token_for_either()
    {
        var (status, body, response) = await RequestAsync(("resource", WithMcpResource.Resource), ("audience", "orchestrator"));
        response.Dispose();
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_target", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Two_resources_in_one_request_are_invalid_target()
    {
        using var http = _plane.IdentityAnonymous();
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials"), new("resource", WithMcpResource.Resource),
                new("resource", "https://orchestrator.example.test/other")]),
        };
        request.Headers.Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{IdentityPlane.SeededAgent}:{TestIdentity.AgentSecret}")));
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"invalid_target\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_resource_uri_is_not_accepted_as_an_audience_and_a_service_audience_still_works_alone()
    {
        var (status, body, response) = await RequestAsync(("audience", WithMcpResource.Resource));
        response.Dispose();
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_target", body.GetProperty("error").GetString());

        var (okStatus, okBody, okResponse) = await RequestAsync(("audience", "orchestrator"));
        okResponse.Dispose();
        Assert.Equal(HttpStatusCode.OK, okStatus);
        Assert.Equal(["orchestrator"], new JsonWebToken(okBody.GetProperty("access_token").GetString()).Audiences);
    }

    [Fact]
    public async Task OAuth_clients_find_the_same_metadata_at_the_rfc_8414_address_as_at_oidc_discovery()
    {
        using var http = _plane.IdentityAnonymous();
        using var oauth = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(".well-known/oauth-authorization-server", TestContext.Current.CancellationToken));
        using var oidc = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(".well-known/openid-configuration", TestContext.Current.CancellationToken));

        Assert.Equal(_plane.IssuerText, oauth.RootElement.GetProperty("issuer").GetString());
        Assert.Equal(_plane.IssuerText + "/connect/token", oauth.RootElement.GetProperty("token_endpoint").GetString());
        Assert.Contains("client_credentials", oauth.RootElement.GetProperty("grant_types_supported").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal(oidc.RootElement.ToString(), oauth.RootElement.ToString());
    }
}
