using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;

namespace ControlPlane.Evidence.Verification.Redaction;

/// <summary>A field evidence committed when it appended a record: where, the value's canonical JSON, the salt and the commitment.</summary>
public sealed record CommittedField(string Path, byte[] CanonicalValue, byte[] Salt, string Commitment);

/// <summary>
/// Which fields of a record are sensitive, and so committed by salted hash (<see cref="FieldCommitment"/>) rather
/// than kept in the clear in the leaf. Pure; the same rules for evidence (when it appends) and the verifier (which
/// finds the commitments at these places):
/// <list type="bullet">
/// <item>ApprovalRecorded <c>/comment</c> (an approver's comment), when not null or empty;</item>
/// <item>ProposalSubmitted <c>/action/parameters/&lt;name&gt;</c> and WorkRequested <c>/parameters/&lt;name&gt;</c>
/// whose name is secret (<see cref="IsSecretName"/>);</item>
/// <item>WorkPackageIssued <c>/envelope/payload</c> when the signed package carries a secret-named parameter (the
/// fleet signature covers the parameters, so the whole payload is committed);</item>
/// <item>WorkCompleted and WorkResultSuperseded <c>/signedResult/payload</c> when the runner's signed result carries
/// command output (a non-empty outputExcerpt).</item>
/// </list>
/// </summary>
public static class SensitiveFields
{
    private static readonly string[] SecretWords = ["secret", "password", "passwd", "token", "key", "apikey", "credential", "credentials"];

    /// <summary>
    /// A parameter name is secret when one of its words is secret, password, passwd, token, key, apikey or
    /// credential(s), case-insensitively. Words are split at '_', '-', '.', ' ' and lower-to-upper case changes:
    /// apiKey, API_KEY, db-password and githubToken are secret; keyboard, monkey and tokenizerModel are not.
    /// </summary>
    public static bool IsSecretName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Words(name).Any(w => SecretWords.Contains(w, StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>
    /// The payload as evidence keeps it: each sensitive field replaced by its commitment marker, with a fresh salt
    /// from <paramref name="salt"/> per field. Returns the input unchanged (same array) when nothing is sensitive.
    /// </summary>
    public static (byte[] Payload, IReadOnlyList<CommittedField> Fields) Commit(string kind, byte[] canonicalPayload, Func<byte[]> salt)
    {
        ArgumentNullException.ThrowIfNull(canonicalPayload);
        ArgumentNullException.ThrowIfNull(salt);
        if (!Kinds.Contains(kind) || JsonNode.Parse(canonicalPayload) is not JsonObject payload)
        {
            return (canonicalPayload, []);
        }

        var fields = new List<CommittedField>();
        foreach (var (path, parent, member) in Places(kind, payload))
        {
            var value = parent[member];
            if (value is null || FieldCommitment.IsMarker(value, out _) || !IsSensitive(kind, path, value))
            {
                continue;
            }

            var canonical = CanonicalJson.Serialize(value);
            var fresh = salt();
            var commitment = FieldCommitment.Compute(fresh, canonical);
            parent[member] = FieldCommitment.Marker(commitment);
            fields.Add(new CommittedField(path, canonical, fresh, commitment));
        }

        return fields.Count == 0 ? (canonicalPayload, []) : (CanonicalJson.Serialize(payload), fields);
    }

    /// <summary>The commitment markers a record's payload holds at the places sensitive fields live, by JSON Pointer.</summary>
    public static IReadOnlyList<(string Path, string Commitment)> Find(EvidenceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!Kinds.Contains(record.Kind) || record.Payload is not JsonObject payload)
        {
            return [];
        }

        var found = new List<(string, string)>();
        foreach (var (path, parent, member) in Places(record.Kind, payload))
        {
            if (FieldCommitment.IsMarker(parent[member], out var commitment))
            {
                found.Add((path, commitment));
            }
        }

        return found;
    }

    private static readonly HashSet<string> Kinds = new(StringComparer.Ordinal)
    {
        nameof(ApprovalRecorded), nameof(ProposalSubmitted), nameof(WorkRequested), nameof(WorkPackageIssued), nameof(WorkCompleted), nameof(WorkResultSuperseded),
    };

    /// <summary>Where a kind's sensitive fields may be: (JSON Pointer, parent object, member name).</summary>
    private static IEnumerable<(string Path, JsonObject Parent, string Member)> Places(string kind, JsonObject payload)
    {
        switch (kind)
        {
            case nameof(ApprovalRecorded):
                yield return ("/comment", payload, "comment");
                break;
            case nameof(ProposalSubmitted) when payload["action"] is JsonObject action && action["parameters"] is JsonObject parameters:
                foreach (var name in parameters.Select(p => p.Key).ToList())
                {
                    yield return ("/action/parameters/" + Escape(name), parameters, name);
                }

                break;
            case nameof(WorkRequested) when payload["parameters"] is JsonObject parameters:
                foreach (var name in parameters.Select(p => p.Key).ToList())
                {
                    yield return ("/parameters/" + Escape(name), parameters, name);
                }

                break;
            case nameof(WorkPackageIssued) when payload["envelope"] is JsonObject envelope:
                yield return ("/envelope/payload", envelope, "payload");
                break;
            case nameof(WorkCompleted) or nameof(WorkResultSuperseded) when payload["signedResult"] is JsonObject signed:
                yield return ("/signedResult/payload", signed, "payload");
                break;
        }
    }

    private static bool IsSensitive(string kind, string path, JsonNode value) => kind switch
    {
        nameof(ApprovalRecorded) => Text(value) is { Length: > 0 },
        nameof(ProposalSubmitted) or nameof(WorkRequested) => Text(value) is not null && IsSecretName(Unescape(path[(path.LastIndexOf('/') + 1)..])),
        nameof(WorkPackageIssued) => Decode(value) is { } package && package["parameters"] is JsonObject parameters
            && parameters.Any(p => IsSecretName(p.Key)),
        _ => Decode(value) is { } result && Text(result["outputExcerpt"]) is { Length: > 0 },
    };

    /// <summary>A DSSE payload (base64 JSON) as a JSON object; null when it is not one.</summary>
    private static JsonObject? Decode(JsonNode value)
    {
        if (Text(value) is not { } text || !EvidenceFormat.TryDecodeStrictBase64(text, out var bytes))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(bytes) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static string Escape(string name) => name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static string Unescape(string token) => token.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);

    private static IEnumerable<string> Words(string name)
    {
        var word = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            var boundary = c is '_' or '-' or '.' or ' ' || (char.IsUpper(c) && i > 0 && char.IsLower(name[i - 1]));
            if (boundary && word.Length > 0)
            {
                yield return word.ToString();
                word.Clear();
            }

            if (char.IsLetterOrDigit(c))
            {
                word.Append(c);
            }
        }

        if (word.Length > 0)
        {
            yield return word.ToString();
        }
    }
}
