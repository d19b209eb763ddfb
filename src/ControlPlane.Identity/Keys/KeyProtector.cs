using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.Identity.Keys;

/// <summary>
/// Encrypts signing keys at rest with AES-256-GCM under a key-encryption key from configuration
/// (Identity:KeyEncryptionKey, a secret the deployment provides). Layout: nonce(12) | tag(16) | ciphertext.
/// </summary>
public sealed class KeyProtector
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public KeyProtector(string secret)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(secret);
        if (secret.Length < 16)
        {
            throw new InvalidOperationException("Identity:KeyEncryptionKey must be at least 16 characters of secret material.");
        }

        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, info: "controlplane-identity-signing-keys"u8.ToArray());
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
