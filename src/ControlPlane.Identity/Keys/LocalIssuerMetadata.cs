using ControlPlane.Identity.Tokens;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Identity.Keys;

/// <summary>Identity validates tokens for its own APIs against its key store directly, not over HTTP to itself.</summary>
public sealed class LocalIssuerMetadata(SigningKeyStore keys, IssuerName issuer) : ITokenIssuerMetadata
{
    public async Task<IssuerMetadata> GetAsync(CancellationToken cancellationToken)
    {
        var published = await keys.GetKeysAsync(cancellationToken);
        return new IssuerMetadata(issuer.Current, published.Select(k => (Microsoft.IdentityModel.Tokens.SecurityKey)k.SecurityKey).ToList());
    }

    /// <summary>Another replica may have rotated the key: re-read the database (throttled by the store).</summary>
    public void RequestRefresh() => keys.RequestReload();
}
