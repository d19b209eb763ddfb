using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.Contracts;

/// <summary>
/// Standard Webhooks signing (standardwebhooks.com) of orchestrator's agent webhooks, here so that orchestrator
/// signs and the .NET client verifies with one implementation. The secret is "whsec_" + base64 of random bytes;
/// each delivery carries webhook-id, webhook-timestamp (Unix seconds) and webhook-signature "v1,&lt;base64 HMAC-SHA256 of
/// id.timestamp.body&gt;". The receiver recomputes it with the same secret. Pure: no I/O, no clock.
/// </summary>
public static class WebhookSignature
{
    public const string SecretPrefix = "whsec_";
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";
    public const int SecretBytes = 32;

    /// <summary>A new random secret in its wire form (whsec_…), shown to the agent once.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretBytes));

    /// <summary>The key bytes of a whsec_ secret.</summary>
    public static byte[] KeyOf(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var encoded = secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret;
        return Convert.FromBase64String(encoded);
    }

    /// <summary>The webhook-signature header value for one delivery.</summary>
    public static string Sign(ReadOnlySpan<byte> key, string id, long timestamp, string body)
    {
        var content = Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}");
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, content));
    }

    /// <summary>
    /// Whether one of the space-separated signatures in <paramref name="signatureHeader"/> is the v1 signature of the
    /// delivery and its timestamp lies within <paramref name="tolerance"/> of <paramref name="now"/> (replay window).
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> key, string id, string timestamp, string body, string signatureHeader, DateTimeOffset now,
        TimeSpan tolerance)
    {
        if (!long.TryParse(timestamp, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) ||
            Math.Abs(now.ToUnixTimeSeconds() - seconds) > tolerance.TotalSeconds)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(key, id, seconds, body));
        foreach (var candidate in (signatureHeader ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(candidate), expected))
            {
                return true;
            }
        }

        return false;
    }
}
