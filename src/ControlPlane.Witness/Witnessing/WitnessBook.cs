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
    private readonly LogKeyPins _logs;

    public WitnessBook(IConfiguration configuration, TimeProvider clock, LogKeyPins logs)
    {
        Name = configuration["Witness:Name"] is { Length: > 0 } name && !name.Any(c => char.IsWhiteSpace(c) || c == '+')
            ? name
            : throw new InvalidOperationException("Witness:Name must be set: a key name without spaces or '+', e.g. witness.example/w1.");
        _directory = Path.GetFullPath(configuration["Witness:DataDirectory"] ?? ".witness");
        Directory.CreateDirectory(_directory);
        _key = LoadOrCreateKey(Path.Combine(_directory, "witness.key"));
        _clock = clock;
        _logs = logs;
    }

    public string Name { get; }

    public WitnessKey PublicKey => new(Name, Cosignature.PublicKeyOf(_key));

    public async Task<WitnessAnswer> AddCheckpointAsync(string body, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var logs = await _logs.CurrentAsync(cancellationToken);
            var answer = CheckpointWitness.AddCheckpoint(body, logs, Latest,
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
}
