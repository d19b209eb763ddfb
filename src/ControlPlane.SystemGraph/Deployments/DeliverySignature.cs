using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.SystemGraph.Deployments;

/// <summary>Why a signed delivery was refused; None when it verified.</summary>
public enum SignatureFailure
{
    None,
    Missing,
    Malformed,
    Mismatch,
    Stale,
}

/// <summary>
/// HMAC-SHA256 webhook signatures, compared in constant time. GitHub signs the raw body alone
/// (<c>X-Hub-Signature-256: sha256=&lt;hex&gt;</c>); its replay protection is the delivery id. The plane's own scheme,
/// used for Argo CD notifications, also signs a timestamp (<c>X-ControlPlane-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex of
/// HMAC(secret, "&lt;t&gt;." + body)&gt;</c>) so a captured request stops working once it leaves the replay window.
/// </summary>
public static class DeliverySignature
{
    public const string GitHubHeader = "X-Hub-Signature-256";
    public const string PlaneHeader = "X-ControlPlane-Signature";
    private const string GitHubPrefix = "sha256=";

    public static string GitHub(string secret, ReadOnlySpan<byte> body) => GitHubPrefix + Hex(secret, body);

    public static SignatureFailure VerifyGitHub(string secret, ReadOnlySpan<byte> body, string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return SignatureFailure.Missing;
        }

        if (!header.StartsWith(GitHubPrefix, StringComparison.Ordinal) || !TryHex(header.AsSpan(GitHubPrefix.Length), out var given))
        {
            return SignatureFailure.Malformed;
        }

        return CryptographicOperations.FixedTimeEquals(given, Mac(secret, [], body)) ? SignatureFailure.None : SignatureFailure.Mismatch;
    }

    public static string Plane(string secret, DateTimeOffset at, ReadOnlySpan<byte> body)
    {
        var t = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"t={t},v1={Convert.ToHexStringLower(Mac(secret, Encoding.ASCII.GetBytes(t + "."), body))}";
    }

    /// <summary>Checks the MAC first (an attacker learns nothing about the window), then that t is within ±window of now.</summary>
    public static SignatureFailure VerifyPlane(string secret, ReadOnlySpan<byte> body, string? header, DateTimeOffset now, TimeSpan window)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return SignatureFailure.Missing;
        }

        string? t = null;
        byte[]? given = null;
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith("t=", StringComparison.Ordinal))
            {
                t = part[2..];
            }
            else if (part.StartsWith("v1=", StringComparison.Ordinal) && TryHex(part.AsSpan(3), out var mac))
            {
                given = mac;
            }
        }

        if (t is null || given is null || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return SignatureFailure.Malformed;
        }

        if (!CryptographicOperations.FixedTimeEquals(given, Mac(secret, Encoding.ASCII.GetBytes(t + "."), body)))
        {
            return SignatureFailure.Mismatch;
        }

        var age = now - DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, DateTimeOffset.MaxValue.ToUnixTimeSeconds()));
        return age.Duration() <= window ? SignatureFailure.None : SignatureFailure.Stale;
    }

    private static string Hex(string secret, ReadOnlySpan<byte> body) => Convert.ToHexStringLower(Mac(secret, [], body));

    private static byte[] Mac(string secret, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        hmac.AppendData(prefix);
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }

    private static bool TryHex(ReadOnlySpan<char> hex, out byte[] bytes)
    {
        bytes = [];
        if (hex.Length != 64)
        {
            return false;
        }

        try
        {
            bytes = Convert.FromHexString(hex);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
