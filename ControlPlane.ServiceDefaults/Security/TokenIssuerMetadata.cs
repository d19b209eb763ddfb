using ControlPlane.ServiceDefaults.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace ControlPlane.ServiceDefaults.Security;

/// <summary>Who issues tokens and with which keys.</summary>
public sealed record IssuerMetadata(string Issuer, IReadOnlyCollection<SecurityKey> SigningKeys);

/// <summary>The source of <see cref="IssuerMetadata"/>: identity's discovery document for every service, its own key store for identity.</summary>
public interface ITokenIssuerMetadata
{
    Task<IssuerMetadata> GetAsync(CancellationToken cancellationToken);

    /// <summary>Asks for fresh keys at the next call (a token named a kid we do not know: keys may have rotated).</summary>
    void RequestRefresh();
}

/// <summary>
/// OIDC discovery + JWKS from identity (Identity:Authority, else services:identity:http:0), cached and refreshed
/// every 10 minutes, or sooner (at most every 30 s) when a token names an unknown kid.
/// </summary>
public sealed class DiscoveryIssuerMetadata : ITokenIssuerMetadata
{
    private readonly ConfigurationManager<OpenIdConnectConfiguration> _manager;

    public DiscoveryIssuerMetadata(IConfiguration configuration, IHttpClientFactory httpClients)
    {
        var authority = Authority(configuration);
        var metadataAddress = new Uri(authority, ".well-known/openid-configuration").ToString();
        var retriever = new HttpDocumentRetriever(httpClients.CreateClient("identity-discovery"))
        {
            // Plain HTTP is only tolerated for loopback (local runs and tests) or when explicitly allowed inside a cluster.
            RequireHttps = !authority.IsLoopback && !string.Equals(configuration["Identity:AllowInsecureMetadata"], "true", StringComparison.OrdinalIgnoreCase),
        };
        _manager = new ConfigurationManager<OpenIdConnectConfiguration>(metadataAddress, new OpenIdConnectConfigurationRetriever(), retriever)
        {
            AutomaticRefreshInterval = TimeSpan.FromMinutes(10),
            RefreshInterval = TimeSpan.FromSeconds(30),
        };
    }

    public static Uri Authority(IConfiguration configuration) =>
        configuration["Identity:Authority"] is { Length: > 0 } configured
            ? new Uri(configured.TrimEnd('/') + "/")
            : ServiceEndpoints.TryResolve(configuration, "identity") ?? throw new InvalidOperationException(
                "Token validation needs the identity service: set Identity__Authority or services__identity__http__0 " +
                "(the AppHost and ./run.sh set services__identity__http__0).");

    public async Task<IssuerMetadata> GetAsync(CancellationToken cancellationToken)
    {
        var document = await _manager.GetConfigurationAsync(cancellationToken);
        return new IssuerMetadata(document.Issuer, document.SigningKeys.ToList());
    }

    public void RequestRefresh() => _manager.RequestRefresh();
}
