using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.Runner.Actions;

/// <summary>
/// A command's output (stdout and stderr in the order they were read): the SHA-256 over all of it, and its first
/// <see cref="Limit"/> bytes as the excerpt. When nothing was cut, the digest is the digest of the excerpt.
/// A secret to redact (the package's target credential) never appears in the excerpt, not even its beginning where
/// the excerpt is cut; the digest of cut output covers the bytes as written (a hash does not reveal the token).
/// </summary>
public sealed class OutputCapture : IDisposable
{
    public const int DefaultLimit = 64 * 1024;
    private readonly Lock _gate = new();
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _kept;
    private readonly string? _redact;
    private int _keptLength;

    public OutputCapture(int limit = DefaultLimit, string? redact = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        _kept = new byte[limit];
        _redact = string.IsNullOrEmpty(redact) ? null : redact;
    }

    public const string Redacted = "[" + CommandPlan.CredentialVariable + " redacted]";

    /// <summary>The shortest cut-off beginning of the secret that is still hidden at the end of a truncated excerpt.</summary>
    private const int MinimumPartial = 8;

    public int Limit => _kept.Length;

    public long TotalBytes { get; private set; }

    public void Append(ReadOnlySpan<byte> chunk)
    {
        lock (_gate)
        {
            _hash.AppendData(chunk);
            TotalBytes += chunk.Length;
            var room = Math.Min(_kept.Length - _keptLength, chunk.Length);
            chunk[..room].CopyTo(_kept.AsSpan(_keptLength));
            _keptLength += room;
        }
    }

    /// <summary>Copies a stream (a process pipe) to the capture until it ends.</summary>
    public async Task DrainAsync(Stream stream, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(buffer, ct)) > 0)
        {
            Append(buffer.AsSpan(0, read));
        }
    }

    /// <summary>"sha256:hex" over every byte appended so far.</summary>
    public string Digest()
    {
        lock (_gate)
        {
            // Nothing cut and something redacted: the digest is still the digest of the excerpt the result carries.
            return _redact is not null && TotalBytes == _keptLength
                ? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ExcerptUnlocked())))
                : "sha256:" + Convert.ToHexStringLower(_hash.GetCurrentHash());
        }
    }

    public string Excerpt()
    {
        lock (_gate)
        {
            return ExcerptUnlocked();
        }
    }

    private string ExcerptUnlocked()
    {
        var text = Redact(Encoding.UTF8.GetString(_kept, 0, _keptLength), truncated: TotalBytes > _keptLength);
        return TotalBytes > _keptLength ? text + $"\n[output truncated: {TotalBytes - _keptLength} more bytes]" : text;
    }

    private string Redact(string text, bool truncated)
    {
        if (_redact is null)
        {
            return text;
        }

        text = text.Replace(_redact, Redacted, StringComparison.Ordinal);
        if (truncated)
        {
            // The cut may fall inside the secret: its beginning at the very end of the excerpt goes too.
            for (var length = Math.Min(_redact.Length - 1, text.Length); length >= MinimumPartial; length--)
            {
                if (text.EndsWith(_redact.AsSpan(0, length), StringComparison.Ordinal))
                {
                    return text[..^length] + Redacted;
                }
            }
        }

        return text;
    }

    public void Dispose() => _hash.Dispose();
}
