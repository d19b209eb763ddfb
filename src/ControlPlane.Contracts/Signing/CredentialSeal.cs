using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.Contracts;

/// <summary>
/// Seals a secret to one recipient's ECDH P-256 public key and opens it with the private half: an ephemeral ECDH
/// P-256 key agreement, HKDF-SHA256 over the shared secret (info binds both public keys), AES-256-GCM with the
/// package id and runner id as associated data, so a sealed credential moved to another package or runner does
/// not open. Shared by fleet (seal) and runner (open); BCL only.
/// </summary>
public static class CredentialSeal
{
    public const string Algorithm = "ECDH-ES-P256+HKDF-SHA256+A256GCM";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly byte[] Label = "controlplane/work-credential/v1"u8.ToArray();

    /// <summary>What the seal is bound to: the package and the runner it was issued to.</summary>
    public static byte[] AssociatedData(Guid workId, string runnerId) =>
        Encoding.UTF8.GetBytes($"controlplane work-credential v1\npackage {workId:D}\nrunner {runnerId}");

    public static SealedCredential Seal(string secret, string recipientPublicKey, Guid workId, string runnerId)
    {
        ArgumentNullException.ThrowIfNull(secret);
        using var recipient = ImportPublicKey(recipientPublicKey, out var failure) ?? throw new ArgumentException(failure, nameof(recipientPublicKey));
        using var ephemeral = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var ephemeralSpki = ephemeral.ExportSubjectPublicKeyInfo();
        var key = DeriveKey(ephemeral, recipient.PublicKey, ephemeralSpki, recipient.ExportSubjectPublicKeyInfo());
        try
        {
            var nonce = RandomNumberGenerator.GetBytes(NonceSize);
            var plaintext = Encoding.UTF8.GetBytes(secret);
            var output = new byte[plaintext.Length + TagSize];
            using (var aes = new AesGcm(key, TagSize))
            {
                aes.Encrypt(nonce, plaintext, output.AsSpan(0, plaintext.Length), output.AsSpan(plaintext.Length), AssociatedData(workId, runnerId));
            }

            return new SealedCredential(Algorithm, Convert.ToBase64String(ephemeralSpki), Convert.ToBase64String(nonce), Convert.ToBase64String(output));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>The secret, or null with the reason: another algorithm, a malformed seal, the wrong key, or tampered ciphertext or binding.</summary>
    public static string? Open(SealedCredential? sealedCredential, ECDiffieHellman recipient, Guid workId, string runnerId, out string? failure)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        failure = null;
        if (sealedCredential is null || !string.Equals(sealedCredential.Algorithm, Algorithm, StringComparison.Ordinal))
        {
            failure = $"the credential is not sealed with {Algorithm}";
            return null;
        }

        using var ephemeral = ImportPublicKey(sealedCredential.EphemeralKey, out var keyFailure);
        if (ephemeral is null)
        {
            failure = "the seal's ephemeral key: " + keyFailure;
            return null;
        }

        byte[] nonce;
        byte[] sealedBytes;
        try
        {
            nonce = Convert.FromBase64String(sealedCredential.Nonce ?? string.Empty);
            sealedBytes = Convert.FromBase64String(sealedCredential.Ciphertext ?? string.Empty);
        }
        catch (FormatException)
        {
            failure = "the seal's nonce or ciphertext is not base64";
            return null;
        }

        if (nonce.Length != NonceSize || sealedBytes.Length < TagSize)
        {
            failure = "the seal's nonce or ciphertext has the wrong length";
            return null;
        }

        var key = DeriveKey(recipient, ephemeral.PublicKey, ephemeral.ExportSubjectPublicKeyInfo(), recipient.ExportSubjectPublicKeyInfo());
        try
        {
            var plaintext = new byte[sealedBytes.Length - TagSize];
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(nonce, sealedBytes.AsSpan(0, plaintext.Length), sealedBytes.AsSpan(plaintext.Length), plaintext, AssociatedData(workId, runnerId));
            return Encoding.UTF8.GetString(plaintext);
        }
        catch (AuthenticationTagMismatchException)
        {
            failure = "the credential does not open: sealed to another key, for another package or runner, or altered";
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Imports a base64 DER SubjectPublicKeyInfo of a P-256 key for key agreement; null with the reason otherwise.</summary>
    public static ECDiffieHellman? ImportPublicKey(string? base64Spki, out string? failure) =>
        SigningKeyIds.ImportP256(base64Spki, ECDiffieHellman.Create, "agreement key", "ECDH P-256", out failure);

    private static byte[] DeriveKey(ECDiffieHellman own, ECDiffieHellmanPublicKey other, byte[] ephemeralSpki, byte[] recipientSpki)
    {
        var shared = own.DeriveRawSecretAgreement(other);
        try
        {
            var info = new byte[Label.Length + ephemeralSpki.Length + recipientSpki.Length];
            Label.CopyTo(info, 0);
            ephemeralSpki.CopyTo(info, Label.Length);
            recipientSpki.CopyTo(info, Label.Length + ephemeralSpki.Length);
            return HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, 32, salt: [], info: info);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }
}
