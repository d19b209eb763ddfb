using System.Security.Cryptography;
using System.Text;
using Npgsql;

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

    public KeyProtector(string secret, string purpose, string? configurationKey = null)
    {
        ConfigurationKey = configurationKey ?? "the key-encryption key";
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

        return new KeyProtector(secret, purpose, key);
    }

    /// <summary>Where the key-encryption key is configured ("Fleet:KeyEncryptionKey"), for messages.</summary>
    public string ConfigurationKey { get; }

    /// <summary>
    /// Opens every key stored in <paramref name="table"/> now, at start, so a key-encryption key that differs from
    /// the one the database was created with stops the service with a message saying what to do, instead of
    /// every later request failing with an AuthenticationTagMismatchException.
    /// </summary>
    public async Task VerifyStoredKeysAsync(NpgsqlDataSource dataSource, string table, string idColumn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var command = dataSource.CreateCommand($"select {idColumn}, protected_private_key from {table}");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            try
            {
                Unprotect((byte[])reader[1]);
            }
            catch (CryptographicException ex)
            {
                throw new KeyEncryptionKeyMismatchException(MismatchMessage(reader.GetValue(0).ToString()!, table, dataSource.ConnectionString), ex);
            }
        }
    }

    private string MismatchMessage(string keyId, string table, string connectionString)
    {
        var database = new NpgsqlConnectionStringBuilder(connectionString);
        var variable = ConfigurationKey.Replace(":", "__", StringComparison.Ordinal);
        return $"The stored key '{keyId}' in table {table} of database '{database.Database}' on {database.Host}:{database.Port} does not open " +
            $"with the configured {ConfigurationKey}: it was encrypted with another key-encryption key. The service refuses to start " +
            $"instead of failing every request that needs the key. Way out: set {variable} to the key this database was created with " +
            "(./run.sh keeps it in .state/secrets/ of the clone that created the database), or give this service a database of its own " +
            $"(./run.sh: each clone has its own database names, see .state/db-prefix), or, only if the old keys may be lost, drop database " +
            $"'{database.Database}' so the service creates new keys (what the old keys signed no longer verifies).";
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

/// <summary>Stored key material does not open with the configured key-encryption key (the message says what to do).</summary>
public sealed class KeyEncryptionKeyMismatchException(string message, Exception inner) : InvalidOperationException(message, inner);
