using System.Security.Cryptography;

namespace ControlPlane.Evidence.Verification.Transparency;

/// <summary>
/// RFC 9162 (Certificate Transparency 2.0) section 2.1.1 hashing with SHA-256: a leaf is HASH(0x00 || data), an
/// interior node HASH(0x01 || left || right). The distinct prefixes keep a leaf from being passed off as a node
/// (second-preimage attacks on the tree).
/// </summary>
public static class MerkleHash
{
    public const int Size = 32;
    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    /// <summary>The root of the empty tree: the hash of the empty string.</summary>
    public static byte[] EmptyRoot() => SHA256.HashData(ReadOnlySpan<byte>.Empty);

    public static byte[] Leaf(ReadOnlySpan<byte> data)
    {
        var hash = new byte[Size];
        Leaf(data, hash);
        return hash;
    }

    public static void Leaf(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData([LeafPrefix]);
        sha.AppendData(data);
        sha.GetHashAndReset(destination);
    }

    public static byte[] Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var hash = new byte[Size];
        Node(left, right, hash);
        return hash;
    }

    /// <summary>Writes HASH(0x01 || left || right) without allocating; destination may overlap left or right.</summary>
    public static void Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[1 + 2 * Size];
        input[0] = NodePrefix;
        left.CopyTo(input[1..]);
        right.CopyTo(input[(1 + Size)..]);
        SHA256.HashData(input, destination);
    }

    /// <summary>Refuses anything but a 32-byte hash where a leaf hash is expected.</summary>
    internal static void ThrowIfNotHash(byte[] hash, string paramName)
    {
        ArgumentNullException.ThrowIfNull(hash, paramName);
        if (hash.Length != Size)
        {
            throw new ArgumentException($"A leaf hash has {Size} bytes, not {hash.Length}.", paramName);
        }
    }

    /// <summary>The largest power of two strictly smaller than n (n ≥ 2): where RFC 9162 splits a tree of n leaves.</summary>
    internal static long Split(long n) => 1L << (int)(63 - long.LeadingZeroCount(n - 1));
}
