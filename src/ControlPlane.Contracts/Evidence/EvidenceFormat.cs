using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ControlPlane.Contracts.Evidence;

/// <summary>
/// The exact text forms evidence hashes and signs. Every value that enters a hash has exactly one spelling, so a
/// verifier in any language recomputes the same bytes and a changed byte is never "the same value written
/// differently".
/// </summary>
public static class EvidenceFormat
{
    public const string BundleFormat = "controlplane.evidence-bundle/v1";
    public const string RecordDomain = "controlplane.evidence-record/v1";
    public const string CheckpointType = "controlplane.evidence-checkpoint/v1";

    /// <summary>DSSE payload type of evidence checkpoints.</summary>
    public const string CheckpointPayloadType = "application/vnd.controlplane.evidence-checkpoint+json";

    /// <summary>Owner kinds of <see cref="SigningKeyPublished"/> that bundles rely on.</summary>
    public const string FleetOwner = "fleet";
    public const string RunnerOwner = "runner";
    public const string EvidenceOwner = "evidence";

    /// <summary>prev_hash of sequence 1 and proposal_prev_hash of a proposal's first record.</summary>
    public static readonly string Genesis = "sha256:" + new string('0', 64);

    private const string TimestampPattern = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    /// <summary>UTC, microsecond precision (what PostgreSQL timestamptz keeps): 2026-11-21T09:30:00.123456Z.</summary>
    public static string Timestamp(DateTimeOffset value) =>
        Truncate(value).UtcDateTime.ToString(TimestampPattern, CultureInfo.InvariantCulture);

    /// <summary>Drops sub-microsecond ticks, so a value survives a round trip through PostgreSQL unchanged.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % 10), TimeSpan.Zero);

    /// <summary>Lowercase 8-4-4-4-12.</summary>
    public static string Id(Guid value) => value.ToString("D");

    public static bool IsTimestamp(string? text) =>
        text is not null
        && DateTimeOffset.TryParseExact(text, TimestampPattern, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
        && string.Equals(Timestamp(parsed), text, StringComparison.Ordinal);

    public static bool IsId(string? text) =>
        text is not null && Guid.TryParseExact(text, "D", out var parsed) && string.Equals(Id(parsed), text, StringComparison.Ordinal);

    /// <summary>"sha256:" followed by 64 lowercase hex digits.</summary>
    public static bool IsHash(string? text) =>
        text is { Length: 71 } && text.StartsWith("sha256:", StringComparison.Ordinal)
        && text.AsSpan(7).IndexOfAnyExcept("0123456789abcdef") < 0;

    /// <summary>Base64 that decodes and re-encodes to itself: no padding bits or white space that a decoder would ignore.</summary>
    public static bool TryDecodeStrictBase64(string? text, out byte[] bytes)
    {
        bytes = [];
        if (text is null)
        {
            return false;
        }

        try
        {
            bytes = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return false;
        }

        return string.Equals(Convert.ToBase64String(bytes), text, StringComparison.Ordinal);
    }

    /// <summary>"sha256:" + hex of the DER SubjectPublicKeyInfo: what an operator pins to trust an evidence key.</summary>
    public static string KeyFingerprint(ReadOnlySpan<byte> subjectPublicKeyInfo) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo));

    /// <summary>Imports a base64 DER SubjectPublicKeyInfo that must be an ECDSA P-256 key; null otherwise.</summary>
    public static ECDsa? ImportP256(string publicKey)
    {
        if (!TryDecodeStrictBase64(publicKey, out var der))
        {
            return null;
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(der, out var read);
            var curve = key.ExportParameters(false).Curve;
            if (read == der.Length && key.KeySize == 256 && curve.IsNamed
                && string.Equals(curve.Oid.Value, ECCurve.NamedCurves.nistP256.Oid.Value, StringComparison.Ordinal))
            {
                return key;
            }
        }
        catch (CryptographicException)
        {
            // not a key; answered below
        }

        key.Dispose();
        return null;
    }

    /// <summary>
    /// The JSON of bundles and of the evidence API: camelCase, every member present (nulls written, not omitted),
    /// case-sensitive names, unknown and duplicate members rejected, nullability enforced. Strict on reading so
    /// that a renamed, repeated or missing member is a shape error rather than a silently ignored change.
    /// </summary>
    public static readonly JsonSerializerOptions Json = CreateJson();

    internal static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            PropertyNameCaseInsensitive = false,
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            AllowDuplicateProperties = false,
            NumberHandling = JsonNumberHandling.Strict,
            WriteIndented = true,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
