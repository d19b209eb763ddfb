using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.Contracts;

/// <summary>
/// How ECDSA P-256 public keys travel (base64 DER SubjectPublicKeyInfo, as in <see cref="SigningKeyPublished"/>)
/// and how they are named: the RFC 7638 JWK thumbprint, so a key id is stable and anyone can recompute it.
/// </summary>
public static class SigningKeyIds
{
    public static string Thumbprint(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var p = key.ExportParameters(includePrivateParameters: false);
        if (p.Curve.Oid?.Value != ECCurve.NamedCurves.nistP256.Oid.Value || p.Q.X is null || p.Q.Y is null)
        {
            throw new ArgumentException("Only ECDSA P-256 keys are used for signing here.", nameof(key));
        }

        // RFC 7638 §3.2: the required members, lexicographic order, no white space.
        var jwk = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{Base64Url.EncodeToString(p.Q.X)}\",\"y\":\"{Base64Url.EncodeToString(p.Q.Y)}\"}}";
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(jwk)));
    }

    public static string ExportPublicKey(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());
    }

    /// <summary>Imports a base64 SPKI; null with the reason when it is not an ECDSA P-256 public key.</summary>
    public static ECDsa? ImportPublicKey(string? base64Spki, out string? failure) =>
        ImportP256(base64Spki, ECDsa.Create, "public key", "ECDSA P-256", out failure);

    /// <summary>A base64 DER SubjectPublicKeyInfo of a P-256 key into <paramref name="create"/>'s algorithm; null with the reason otherwise.</summary>
    internal static T? ImportP256<T>(string? base64Spki, Func<T> create, string what, string kind, out string? failure) where T : ECAlgorithm
    {
        failure = null;
        if (string.IsNullOrWhiteSpace(base64Spki) || base64Spki.Length > 4096)
        {
            failure = $"{what} is missing or too long";
            return null;
        }

        var key = create();
        try
        {
            var der = Convert.FromBase64String(base64Spki);
            key.ImportSubjectPublicKeyInfo(der, out var read);
            var curve = key.ExportParameters(false).Curve;
            if (read != der.Length || curve.Oid?.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                failure = $"{what} is not a single {kind} SubjectPublicKeyInfo";
                key.Dispose();
                return null;
            }

            return key;
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            failure = $"{what} is not a base64 DER SubjectPublicKeyInfo of an {kind} key";
            key.Dispose();
            return null;
        }
    }
}
