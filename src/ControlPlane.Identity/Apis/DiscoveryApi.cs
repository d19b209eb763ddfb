using ControlPlane.Identity.Authorization;
using ControlPlane.Identity.Keys;
using ControlPlane.Identity.Tokens;
using ControlPlane.ServiceDefaults.Health;

namespace ControlPlane.Identity.Apis;

/// <summary>OIDC discovery and JWKS: public by design, every service reads them to validate tokens.</summary>
public static class DiscoveryApi
{
    public static IEndpointRouteBuilder MapDiscoveryApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/openid-configuration", Metadata)
            .AllowAnonymous().WithMetadata(new AnonymousByDesign("OIDC discovery")).WithTags("Discovery");
        // RFC 8414: the same document where OAuth clients look for it (MCP clients of the 2025-06-18 spec look only here).
        app.MapGet("/.well-known/oauth-authorization-server", Metadata)
            .AllowAnonymous().WithMetadata(new AnonymousByDesign("OAuth authorization server metadata (RFC 8414)")).WithTags("Discovery");

        app.MapGet("/.well-known/jwks.json", async (SigningKeyStore keys, CancellationToken ct) =>
        {
            var published = await keys.GetKeysAsync(ct);
            return Results.Json(new { keys = published.Select(k => k.PublicJwk) }, JwksJson.Options);
        }).AllowAnonymous().WithMetadata(new AnonymousByDesign("JWKS")).WithTags("Discovery");
        return app;
    }

    private static IResult Metadata(IssuerName issuer)
    {
        var iss = issuer.Current;
        return Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = iss,
            ["jwks_uri"] = iss + "/.well-known/jwks.json",
            ["token_endpoint"] = iss + "/connect/token",
            ["authorization_endpoint"] = iss + "/connect/authorize",
            ["end_session_endpoint"] = iss + "/connect/endsession",
            ["grant_types_supported"] = new[] { TokenEndpoint.ClientCredentials, InteractiveGrants.AuthorizationCode, TokenEndpoint.TokenExchange },
            ["code_challenge_methods_supported"] = new[] { AuthorizeRules.S256 },
            ["scopes_supported"] = new[] { "openid", "profile", "email" },
            ["claims_supported"] = new[] { "sub", "name", "email", "roles", "nonce", "auth_time" },
            ["token_endpoint_auth_methods_supported"] = new[] { "client_secret_basic", "client_secret_post", "private_key_jwt", "none" },
            ["token_endpoint_auth_signing_alg_values_supported"] = new[] { "ES256" },
            ["id_token_signing_alg_values_supported"] = new[] { "ES256" },
            ["response_types_supported"] = new[] { "code" },
            ["subject_types_supported"] = new[] { "public" },
        });
    }

    private static class JwksJson
    {
        public static readonly System.Text.Json.JsonSerializerOptions Options = new() { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower };
    }
}
