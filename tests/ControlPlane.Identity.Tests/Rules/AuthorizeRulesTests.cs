using ControlPlane.Identity.Authorization;
using Microsoft.Extensions.Configuration;

namespace ControlPlane.Identity.Tests.Rules;

/// <summary>The pure rules of /connect/authorize and PKCE.</summary>
public sealed class AuthorizeRulesTests
{
    private const string Redirect = "http://localhost:5107/signin-oidc";
    private static readonly OidcClients Clients = new([new OidcClient("console", [Redirect], [])]);

    private static Dictionary<string, string?> Valid() => new()
    {
        ["client_id"] = "console",
        ["redirect_uri"] = Redirect,
        ["response_type"] = "code",
        ["scope"] = "openid profile",
        ["state"] = "s",
        ["nonce"] = "n",
        ["code_challenge"] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ["code_challenge_method"] = "S256",
    };

    private static (AuthorizeRequest? Request, AuthorizeError? Error) Validate(Dictionary<string, string?> parameters) =>
        AuthorizeRules.Validate(key => parameters.GetValueOrDefault(key), Clients);

    [Fact]
    public void The_RFC_7636_example_verifier_matches_its_challenge_and_nothing_else_does()
    {
        Assert.True(AuthorizeRules.VerifierMatches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        Assert.False(AuthorizeRules.VerifierMatches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        Assert.False(AuthorizeRules.VerifierMatches("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        Assert.False(AuthorizeRules.VerifierMatches(null, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }

    [Fact]
    public void A_valid_request_is_accepted_with_its_bindings()
    {
        var (request, error) = Validate(Valid());

        Assert.Null(error);
        Assert.Equal(new AuthorizeRequest("console", Redirect, "openid profile", "s", "n", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), request);
    }

    [Theory]
    [InlineData("client_id", "other", "invalid_client", false)]
    [InlineData("redirect_uri", "http://localhost:5107/signin-oidc?x=1", "invalid_request", false)]
    [InlineData("redirect_uri", "HTTP://localhost:5107/signin-oidc", "invalid_request", false)]
    [InlineData("response_type", "token", "unsupported_response_type", true)]
    [InlineData("scope", "profile", "invalid_scope", true)]
    [InlineData("code_challenge_method", "plain", "invalid_request", true)]
    [InlineData("code_challenge", "too-short", "invalid_request", true)]
    public void Each_broken_parameter_is_refused_and_only_a_trusted_redirect_uri_gets_the_error(string name, string value, string expected, bool redirect)
    {
        var parameters = Valid();
        parameters[name] = value;

        var (request, error) = Validate(parameters);

        Assert.Null(request);
        Assert.Equal(expected, error!.Error);
        Assert.Equal(redirect, error.Redirect);
    }

    [Fact]
    public void Redirect_uris_must_be_absolute_http_without_fragment()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Identity:Clients:console:RedirectUris:0"] = "/relative",
        }).Build();

        Assert.Throws<InvalidOperationException>(() => OidcClients.FromConfiguration(configuration));
    }
}
