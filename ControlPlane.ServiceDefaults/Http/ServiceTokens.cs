using ControlPlane.Client;
using Microsoft.Extensions.Configuration;

namespace ControlPlane.ServiceDefaults.Http;

/// <summary>A service's own workload identity: the agent id and secret it asks identity for client-credentials tokens with.</summary>
public sealed class ServiceClientOptions
{
    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    public bool IsConfigured => !string.IsNullOrEmpty(ClientId) && !string.IsNullOrEmpty(ClientSecret);
}

/// <summary>
/// A service's own client-credentials tokens for the calls it makes to other services, one per audience, from
/// identity (services:identity:http:0). The caller's token never leaves the service: it was issued for this one.
/// Not configured (no client id/secret or no identity address): <see cref="IsConfigured"/> is false and callers say so.
/// </summary>
public sealed class ServiceTokens(IHttpClientFactory http, IConfiguration configuration, ServiceClientOptions client, string httpClientName)
{
    private readonly Lazy<TokenProvider?> _provider = new(() =>
    {
        if (!client.IsConfigured || ServiceEndpoints.TryResolve(configuration, "identity") is not { } identity)
        {
            return null;
        }

        return new TokenProvider(http.CreateClient(httpClientName), new ControlPlaneClientOptions
        {
            Identity = identity,
            Orchestrator = identity, // not used: this provider only asks identity for tokens
            ClientId = client.ClientId!,
            ClientSecret = client.ClientSecret!,
        });
    });

    public bool IsConfigured => _provider.Value is not null;

    public async Task<string> GetAsync(string audience, CancellationToken cancellationToken) =>
        _provider.Value is { } provider
            ? await provider.GetTokenAsync(audience, cancellationToken)
            : throw new InvalidOperationException("This service has no client credentials (ServiceClient:ClientId and :ClientSecret) or no identity address.");

    public void Invalidate(string audience) => _provider.Value?.Invalidate(audience);
}
