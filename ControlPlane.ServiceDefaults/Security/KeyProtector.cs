using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.ServiceDefaults.Security;

/// <summary>
/// Encrypts private keys at rest (identity's token keys, fleet's work-package key, evidence's checkpoint key)
/// with AES-256-GCM under a key-encryption key the deployment provides as a secret. Layout: nonce(12) | tag(16) | ciphertext.
/// The purpose string separates keys derived from one secret for different uses.
/// </summary>
public sealed class KeyProtector
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public KeyProtector(string secret, string purpose)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(secret);
        if (secret.Length < 16)
        {
            throw new InvalidOperationException("The key-encryption key must be at least 16 characters of secret material.");
        }

        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, info: Encoding.UTF8.GetBytes("controlplane:" + purpose));
    }

    /// <summary>
    /// The key-encryption key from configuration (<paramref name="key"/>): required outside Development; a fixed,
    /// loudly named development key otherwise.
    /// </summary>
    public static KeyProtector FromConfiguration(Microsoft.Extensions.Configuration.IConfiguration configuration, Microsoft.Extensions.Hosting.IHostEnvironment environment, string key, string purpose)
    {
        var secret = configuration[key];
        if (string.IsNullOrEmpty(secret))
        {
            secret = Microsoft.Extensions.Hosting.HostEnvironmentEnvExtensions.IsDevelopment(environment)
                ? "development-only-key-encryption-key-do-not-use-in-production"
                : throw new InvalidOperationException(
                    $"{key} is not set. Provide a secret of at least 16 characters (a Kubernetes secret or an Aspire secret parameter).");
        }

        return new KeyProtector(secret, purpose);
    }

    public byte[] Protect(ReadOnlySpan<byte> plaintext)
    {
        var output = new byte[NonceSize + TagSize + plaintext.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize));
        return output;
    }

    public byte[] Unprotect(ReadOnlySpan<byte> protectedData)
    {
        if (protectedData.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("Protected key material is truncated.");
        }

        var plaintext = new byte[protectedData.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(protectedData[..NonceSize], protectedData[(NonceSize + TagSize)..], protectedData.Slice(NonceSize, TagSize), plaintext);
        return plaintext;
    }
}
