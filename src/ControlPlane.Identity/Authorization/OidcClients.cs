namespace ControlPlane.Identity.Authorization;

/// <summary>A public OIDC client (no secret, PKCE S256 required) and the exact URIs identity may send a browser back to.</summary>
public sealed record OidcClient(string Id, IReadOnlyList<string> RedirectUris, IReadOnlyList<string> PostLogoutRedirectUris)
{
    /// <summary>Exact, ordinal match (RFC 9700 §4.1.3): no prefixes, no wildcards, no case folding.</summary>
    public bool AllowsRedirect(string? uri) => uri is not null && RedirectUris.Contains(uri, StringComparer.Ordinal);

    public bool AllowsPostLogoutRedirect(string? uri) => uri is not null && PostLogoutRedirectUris.Contains(uri, StringComparer.Ordinal);
}

/// <summary>
/// Identity:Clients:&lt;id&gt;:RedirectUris and :PostLogoutRedirectUris. Read at start: a relative or fragment URI
/// fails the start rather than the first sign-in.
/// </summary>
public sealed class OidcClients
{
    private readonly Dictionary<string, OidcClient> _clients;

    public OidcClients(IEnumerable<OidcClient> clients)
    {
        ArgumentNullException.ThrowIfNull(clients);
        _clients = clients.ToDictionary(c => c.Id, StringComparer.Ordinal);
    }

    public IReadOnlyCollection<string> Ids => _clients.Keys;

    public OidcClient? Find(string? clientId) => clientId is not null && _clients.TryGetValue(clientId, out var client) ? client : null;

    public static OidcClients FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var clients = configuration.GetSection("Identity:Clients").GetChildren().Select(section => new OidcClient(
            section.Key,
            Uris(section, "RedirectUris"),
            Uris(section, "PostLogoutRedirectUris")));
        return new OidcClients(clients.ToList());
    }

    private static string[] Uris(IConfigurationSection client, string name)
    {
        var uris = client.GetSection(name).Get<string[]>() ?? [];
        foreach (var uri in uris)
        {
            if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Fragment.Length > 0 || parsed.Scheme is not ("http" or "https"))
            {
                throw new InvalidOperationException($"Identity:Clients:{client.Key}:{name} holds '{uri}': an absolute http(s) URI without a fragment is required.");
            }
        }

        return uris;
    }
}
