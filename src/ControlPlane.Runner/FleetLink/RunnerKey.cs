using System.Security.Cryptography;
using ControlPlane.Contracts;

namespace ControlPlane.Runner.FleetLink;

/// <summary>
/// The runner's own ECDSA P-256 result-signing key, created on first start in the state directory (PKCS#8 PEM,
/// owner read/write only) and reused afterwards, so the key fleet and evidence know stays the same across restarts.
/// </summary>
public sealed class RunnerKey : IDisposable
{
    public const string FileName = "runner-key.pem";

    private RunnerKey(ECDsa key)
    {
        Key = key;
        KeyId = SigningKeyIds.Thumbprint(key);
        PublicKey = SigningKeyIds.ExportPublicKey(key);
    }

    public ECDsa Key { get; }

    public string KeyId { get; }

    public string PublicKey { get; }

    public static RunnerKey LoadOrCreate(string stateDirectory) => new(StateFiles.LoadOrCreateKey(stateDirectory, FileName, ECDsa.Create()));

    public DsseEnvelope Sign(WorkResult result) => Dsse.Sign(result, WorkResult.PayloadType, Key, KeyId);

    public DsseEnvelope Sign(WorkAck ack) => Dsse.Sign(ack, WorkAck.PayloadType, Key, KeyId);

    public void Dispose() => Key.Dispose();
}

/// <summary>Files in the state directory: private to the runner's user, replaced atomically so a crash never leaves half a file.</summary>
public static class StateFiles
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static void EnsureDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, OwnerOnly | UnixFileMode.UserExecute);
        }
    }

    /// <summary>A P-256 private key kept in the state directory (PKCS#8 PEM): loaded into <paramref name="key"/>, or generated and saved on first use.</summary>
    public static T LoadOrCreateKey<T>(string stateDirectory, string fileName, T key) where T : ECAlgorithm
    {
        ArgumentNullException.ThrowIfNull(key);
        EnsureDirectory(stateDirectory);
        var path = Path.Combine(stateDirectory, fileName);
        if (File.Exists(path))
        {
            key.ImportFromPem(File.ReadAllText(path));
            return key;
        }

        key.GenerateKey(ECCurve.NamedCurves.nistP256);
        WriteAtomically(path, key.ExportPkcs8PrivateKeyPem());
        return key;
    }

        public static void WriteAtomically(string path, string contents)
    {
        var temporary = path + ".tmp-" + Guid.NewGuid().ToString("N");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(contents);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
