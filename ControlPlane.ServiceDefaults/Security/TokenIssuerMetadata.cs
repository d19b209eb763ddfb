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
/// OIDC discovery + JWKS from identity (Identity:Authority, else services:identity:http:0), cached for 10 minutes.
/// A token naming an unknown kid (identity rotated its key) makes the next read fetch again and wait for the
/// answer, so the first token of a new key is accepted; such forced fetches happen at most every 10 s, so tokens
/// with made-up kids cannot turn a service into a JWKS flood. When identity cannot be reached the last keys
/// fetched stay in use (they still verify signatures); with none fetched yet, nothing validates (fail closed).
/// </summary>
public sealed class DiscoveryIssuerMetadata : ITokenIssuerMetadata
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan MinForcedRefreshGap = TimeSpan.FromSeconds(10);
    private readonly string _metadataAddress;
    private readonly HttpDocumentRetriever _retriever;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IssuerMetadata? _current;
    private DateTimeOffset _expiresAt = DateTimeOffset.MinValue;
    private DateTimeOffset _lastForcedRefresh = DateTimeOffset.MinValue;
    private volatile bool _refreshRequested;

    public DiscoveryIssuerMetadata(IConfiguration configuration, IHttpClientFactory httpClients)
        : this(Authority(configuration), httpClients.CreateClient("identity-discovery"),
            // Plain HTTP is only tolerated for loopback (local runs and tests) or when explicitly allowed inside a cluster.
            requireHttps: !Authority(configuration).IsLoopback && !string.Equals(configuration["Identity:AllowInsecureMetadata"], "true", StringComparison.OrdinalIgnoreCase))
    {
    }

    private DiscoveryIssuerMetadata(Uri authority, HttpClient http, bool requireHttps)
    {
        _metadataAddress = new Uri(authority, ".well-known/openid-configuration").ToString();
        _retriever = new HttpDocumentRetriever(http) { RequireHttps = requireHttps };
    }

    /// <summary>The same cache over any OIDC issuer (identity uses it for the corporate IdP's keys).</summary>
    public static DiscoveryIssuerMetadata ForAuthority(Uri authority, HttpClient http, bool requireHttps)
    {
        ArgumentNullException.ThrowIfNull(authority);
        return new DiscoveryIssuerMetadata(new Uri(authority.ToString().TrimEnd('/') + "/"), http, requireHttps);
    }

    public static Uri Authority(IConfiguration configuration) =>
        configuration["Identity:Authority"] is { Length: > 0 } configured
            ? new Uri(configured.TrimEnd('/') + "/")
            : ServiceEndpoints.TryResolve(configuration, "identity") ?? throw new InvalidOperationException(
                "Token validation needs the identity service: set Identity__Authority or services__identity__http__0 " +
                "(the AppHost and ./run.sh set services__identity__http__0).");

    public async Task<IssuerMetadata> GetAsync(CancellationToken cancellationToken)
    {
        if (_current is { } cached && !NeedsFetch(DateTimeOffset.UtcNow))
        {
            return cached;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = DateTimeOffset.UtcNow;
            if (_current is { } fresh && !NeedsFetch(now))
            {
                return fresh;
            }

            if (_refreshRequested && now - _lastForcedRefresh >= MinForcedRefreshGap)
            {
                _lastForcedRefresh = now;
            }

            _refreshRequested = false;
            try
            {
                var document = await OpenIdConnectConfigurationRetriever.GetAsync(_metadataAddress, _retriever, cancellationToken);
                _current = new IssuerMetadata(document.Issuer, document.SigningKeys.ToList());
                _expiresAt = now + MaxAge;
            }
            catch (Exception ex) when (_current is not null && ex is not OperationCanceledException)
            {
                // Keep verifying with the last keys; try again soon.
                _expiresAt = now + MinForcedRefreshGap;
            }

            return _current;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void RequestRefresh() => _refreshRequested = true;

    private bool NeedsFetch(DateTimeOffset now) =>
        now >= _expiresAt || (_refreshRequested && now - _lastForcedRefresh >= MinForcedRefreshGap);
}
