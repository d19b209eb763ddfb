using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using ControlPlane.Contracts.Evidence;

namespace ControlPlane.Witness.Witnessing;

/// <summary>
/// The key of each log the witness follows. A log configured with `PublicKey` is trusted as configured (production:
/// the operator copies it from the log's published keys). A log configured with `KeysUrl` instead is trusted on first
/// use: the first time a checkpoint for it arrives, the witness reads the log's newest key from that URL (evidence's
/// `GET /evidence/keys`) and pins it in its data directory; afterwards only the pin counts, so a log that later serves
/// another key cannot make the witness follow it. This is what lets `./run.sh` start a witness beside an evidence
/// service that creates its key at first start.
/// </summary>
public sealed partial class LogKeyPins : IDisposable
{
    public const string HttpClientName = "witness-log-keys";

    private readonly Dictionary<string, ECDsa> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Uri> _pending;
    private readonly Dictionary<string, ECDsa> _configured;
    private readonly string _directory;
    private readonly IHttpClientFactory _http;
    private readonly ILogger<LogKeyPins> _logger;

    public LogKeyPins(IConfiguration configuration, IHttpClientFactory http, ILogger<LogKeyPins> logger)
    {
        _pending = Load(configuration, out _configured);
        _directory = Path.GetFullPath(configuration["Witness:DataDirectory"] ?? ".witness");
        Directory.CreateDirectory(_directory);
        _http = http;
        _logger = logger;
    }

    /// <summary>The keys known now: configured, pinned earlier, or pinned by this call from each pending KeysUrl.
    /// A log whose URL does not answer stays pending (its checkpoints are refused as from an unknown log) and is
    /// asked again with its next checkpoint. Called under the witness's lock.</summary>
    public async Task<IReadOnlyDictionary<string, ECDsa>> CurrentAsync(CancellationToken cancellationToken)
    {
        foreach (var (origin, key) in _configured)
        {
            _keys.TryAdd(origin, key);
        }

        foreach (var (origin, url) in _pending.ToList())
        {
            if (await PinAsync(origin, url, cancellationToken) is { } key)
            {
                _keys[origin] = key;
                _pending.Remove(origin);
            }
        }

        return _keys;
    }

    public void Dispose()
    {
        foreach (var key in _keys.Values.Concat(_configured.Values).Distinct())
        {
            key.Dispose();
        }
    }

    private async Task<ECDsa?> PinAsync(string origin, Uri url, CancellationToken cancellationToken)
    {
        var pin = Path.Combine(_directory, "pin-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(origin)))[..16] + ".spki");
        if (File.Exists(pin))
        {
            return Import(await File.ReadAllTextAsync(pin, cancellationToken));
        }

        try
        {
            var set = await _http.CreateClient(HttpClientName).GetFromJsonAsync<EvidenceKeySet>(url, cancellationToken);
            // The newest key signs the checkpoints; timestamps are RFC 3339 UTC, so ordinal order is time order.
            var newest = set?.Keys.OrderBy(k => k.CreatedAt, StringComparer.Ordinal).LastOrDefault();
            if (newest is null)
            {
                LogNoKeyYet(_logger, origin, url);
                return null;
            }

            var key = Import(newest.PublicKey);
            await File.WriteAllTextAsync(pin, newest.PublicKey, cancellationToken);
            LogPinned(_logger, origin, newest.KeyId, url);
            return key;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            LogUnreachable(_logger, origin, url, ex.Message);
            return null;
        }
    }

    private static Dictionary<string, Uri> Load(IConfiguration configuration, out Dictionary<string, ECDsa> configured)
    {
        configured = new(StringComparer.Ordinal);
        var pending = new Dictionary<string, Uri>(StringComparer.Ordinal);
        foreach (var log in configuration.GetSection("Witness:Logs").GetChildren())
        {
            var origin = log["Origin"] is { Length: > 0 } o ? o : throw new InvalidOperationException($"Witness:Logs:{log.Key}:Origin is missing.");
            if (log["PublicKey"] is { Length: > 0 } publicKey)
            {
                configured[origin] = Import(publicKey, log.Key);
            }
            else if (Uri.TryCreate(log["KeysUrl"], UriKind.Absolute, out var url))
            {
                pending[origin] = url;
            }
            else
            {
                throw new InvalidOperationException(
                    $"Witness:Logs:{log.Key} needs PublicKey (the log's key, base64 DER SubjectPublicKeyInfo from GET /evidence/keys) or KeysUrl (trust on first use).");
            }
        }

        return pending;
    }

    private static ECDsa Import(string base64Spki, string? index = null)
    {
        try
        {
            var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(base64Spki.Trim()), out _);
            return key;
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            throw new InvalidOperationException(
                $"Witness:Logs:{index ?? "?"}:PublicKey (or its pin) must be the log's public key, base64 DER SubjectPublicKeyInfo (GET /evidence/keys).", ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pinned the key {KeyId} of log {Origin} read from {Url}: from now on only checkpoints signed by it are cosigned")]
    private static partial void LogPinned(ILogger logger, string origin, string keyId, Uri url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Log {Origin} publishes no key yet at {Url}; asking again with its next checkpoint")]
    private static partial void LogNoKeyYet(ILogger logger, string origin, Uri url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the key of log {Origin} from {Url} ({Reason}); asking again with its next checkpoint")]
    private static partial void LogUnreachable(ILogger logger, string origin, Uri url, string reason);
}
