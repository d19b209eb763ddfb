using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ControlPlane.Evidence.Verification.Transparency;
using NSec.Cryptography;

namespace ControlPlane.Witness.Witnessing;

/// <summary>
/// The witness's key and memory, on disk under Witness:DataDirectory: `witness.key` (raw Ed25519 private key,
/// created on first start, owner-only) and one JSON file per log with the latest checkpoint cosigned. Checking a
/// request against that state and persisting the new one happen under one lock, before the answer goes out
/// (tlog-witness: a slower, older request must never roll the state back).
/// </summary>
public sealed class WitnessBook : IDisposable
{
    private readonly string _directory;
    private readonly Key _key;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeProvider _clock;

    public WitnessBook(IConfiguration configuration, TimeProvider clock)
    {
        Name = configuration["Witness:Name"] is { Length: > 0 } name && !name.Any(c => char.IsWhiteSpace(c) || c == '+')
            ? name
            : throw new InvalidOperationException("Witness:Name must be set: a key name without spaces or '+', e.g. witness.example/w1.");
        _directory = Path.GetFullPath(configuration["Witness:DataDirectory"] ?? ".witness");
        Directory.CreateDirectory(_directory);
        _key = LoadOrCreateKey(Path.Combine(_directory, "witness.key"));
        _clock = clock;
        Logs = configuration.GetSection("Witness:Logs").GetChildren().ToDictionary(
            log => log["Origin"] ?? throw new InvalidOperationException($"Witness:Logs:{log.Key}:Origin is missing."),
            log => ImportLogKey(log["PublicKey"], log.Key), StringComparer.Ordinal);
    }

    public string Name { get; }

    public WitnessKey PublicKey => new(Name, Cosignature.PublicKeyOf(_key));

    /// <summary>The logs this witness follows: origin → the log's checkpoint key (ECDSA P-256).</summary>
    public IReadOnlyDictionary<string, ECDsa> Logs { get; }

    public async Task<WitnessAnswer> AddCheckpointAsync(string body, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var answer = CheckpointWitness.AddCheckpoint(body, Logs, Latest,
                text => Cosignature.Sign(text, Name, _key, _clock.GetUtcNow()));
            if (answer.Cosigned is { } cosigned)
            {
                await SaveAsync(cosigned, cancellationToken);
            }

            return answer;
        }
        finally
        {
            _gate.Release();
        }
    }

    public WitnessedCheckpoint? Latest(string origin)
    {
        var path = StatePath(origin);
        return File.Exists(path) ? JsonSerializer.Deserialize<WitnessedCheckpoint>(File.ReadAllBytes(path)) : null;
    }

    public void Dispose()
    {
        _key.Dispose();
        _gate.Dispose();
        foreach (var key in Logs.Values)
        {
            key.Dispose();
        }
    }

    private async Task SaveAsync(WitnessedCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        var path = StatePath(checkpoint.Origin);
        var temporary = path + ".new";
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
        {
            await JsonSerializer.SerializeAsync(file, checkpoint, cancellationToken: cancellationToken);
        }

        File.Move(temporary, path, overwrite: true);
    }

    private string StatePath(string origin) =>
        Path.Combine(_directory, "log-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(origin)))[..16] + ".json");

    private static Key LoadOrCreateKey(string path)
    {
        if (File.Exists(path))
        {
            return Cosignature.ImportKey(File.ReadAllBytes(path));
        }

        var key = Cosignature.CreateKey();
        File.WriteAllBytes(path, key.Export(KeyBlobFormat.RawPrivateKey));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return key;
    }

    private static ECDsa ImportLogKey(string? base64Spki, string index)
    {
        try
        {
            var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(base64Spki ?? string.Empty), out _);
            return key;
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            throw new InvalidOperationException($"Witness:Logs:{index}:PublicKey must be the log's public key, base64 DER SubjectPublicKeyInfo (GET /evidence/keys).", ex);
        }
    }
}
