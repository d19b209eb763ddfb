using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.Runner.Actions;

/// <summary>
/// A command's output (stdout and stderr in the order they were read): the SHA-256 over all of it, and its first
/// <see cref="Limit"/> bytes as the excerpt. When nothing was cut, the digest is the digest of the excerpt.
/// </summary>
public sealed class OutputCapture : IDisposable
{
    public const int DefaultLimit = 64 * 1024;
    private readonly Lock _gate = new();
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _kept;
    private int _keptLength;

    public OutputCapture(int limit = DefaultLimit)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        _kept = new byte[limit];
    }

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
            return "sha256:" + Convert.ToHexStringLower(_hash.GetCurrentHash());
        }
    }

    public string Excerpt()
    {
        lock (_gate)
        {
            var text = Encoding.UTF8.GetString(_kept, 0, _keptLength);
            return TotalBytes > _keptLength ? text + $"\n[output truncated: {TotalBytes - _keptLength} more bytes]" : text;
        }
    }

    public void Dispose() => _hash.Dispose();
}
