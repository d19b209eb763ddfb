using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;

namespace ControlPlane.Evidence.Verification.InToto;

/// <param name="TrustedKeyFingerprint">When set, every envelope must be signed by the evidence key with this fingerprint ("sha256:…").</param>
/// <param name="ContentHash">When set, the statements' subject digest must be this proposal content hash ("sha256:…" or bare hex).</param>
public sealed record InTotoVerifyOptions(string? TrustedKeyFingerprint = null, string? ContentHash = null);

/// <summary>One statement that verified: its line, predicate type, signing key, the record it attests and a one-line summary.</summary>
public sealed record VerifiedStatement(int Line, string PredicateType, string KeyId, AttestedRecord Evidence, string Summary);

/// <summary>What verifying an attestation bundle found: the statements that verified and, on failure, the line and reason.</summary>
public sealed record InTotoVerification(IReadOnlyList<VerifiedStatement> Statements, InTotoSubject? Subject, int? FailedLine, string? Failure)
{
    public bool Ok => Failure is null;
}

/// <summary>
/// Verifies a ControlPlane in-toto attestation bundle offline (pure, no I/O) against evidence's public keys (GET
/// /evidence/keys). Every non-empty line must be a DSSE envelope with payloadType application/vnd.in-toto+json
/// whose signatures all verify (over PAE) with evidence keys; its payload an in-toto Statement v1 with one subject,
/// proposal/&lt;id&gt; with a sha256 digest, the same on every line (and equal to the expected content hash when
/// given); a ControlPlane predicate type whose predicate has the documented fields, and a pointer to the evidence
/// record it attests (leaf index = sequence − 1, one statement per record). Stricter than the in-toto bundle spec,
/// which lets consumers skip lines they do not recognise: here every line is ControlPlane's, so a line that does not
/// verify is a failure, never skipped. Stops at the first failure.
/// </summary>
public static class InTotoVerifier
{
    private static readonly Dictionary<string, (string Kind, Type Predicate)> Predicates = new(StringComparer.Ordinal)
    {
        [InTotoFormat.PolicyDecisionPredicate] = (nameof(PolicyDecided), typeof(PolicyDecisionAttestation)),
        [InTotoFormat.ApprovalPredicate] = (nameof(ApprovalRecorded), typeof(ApprovalAttestation)),
        [InTotoFormat.RunnerResultPredicate] = (nameof(WorkCompleted), typeof(RunnerResultAttestation)),
    };

    public static InTotoVerification Verify(string bundle, IReadOnlyList<EvidencePublicKey> keys, InTotoVerifyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(keys);
        options ??= new InTotoVerifyOptions();
        var expectedDigest = options.ContentHash is { } hash ? Hex(hash) : null;
        if (options.ContentHash is not null && expectedDigest is null)
        {
            return new InTotoVerification([], null, null, $"the expected content hash '{options.ContentHash}' is not sha256:<64 lowercase hex>");
        }

        var imported = new Dictionary<string, ECDsa?>(StringComparer.Ordinal);
        try
        {
            var verified = new List<VerifiedStatement>();
            var sequences = new Dictionary<long, int>();
            InTotoSubject? subject = null;
            var lines = bundle.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].TrimEnd('\r');
                if (line.Length == 0)
                {
                    continue;
                }

                var number = i + 1;
                var failure = VerifyLine(line, keys, options.TrustedKeyFingerprint, imported, out var statement, out var keyId);
                failure ??= CheckSubject(statement!, ref subject, expectedDigest, verified.Count == 0 ? null : verified[0].Line);
                VerifiedStatement? result = null;
                failure ??= CheckPredicate(statement!, number, keyId!, out result);
                if (failure is null && sequences.TryGetValue(result!.Evidence.Sequence, out var earlier))
                {
                    failure = $"record {result.Evidence.Sequence} is attested again (first on line {earlier})";
                }

                if (failure is not null)
                {
                    return new InTotoVerification(verified, subject, number, failure);
                }

                sequences[result!.Evidence.Sequence] = number;
                verified.Add(result);
            }

            return verified.Count == 0
                ? new InTotoVerification(verified, null, null, "the bundle holds no statements")
                : new InTotoVerification(verified, subject, null, null);
        }
        finally
        {
            foreach (var key in imported.Values)
            {
                key?.Dispose();
            }
        }
    }

    private static string? VerifyLine(string line, IReadOnlyList<EvidencePublicKey> keys, string? trusted, Dictionary<string, ECDsa?> imported,
        out Statement? statement, out string? keyId)
    {
        statement = null;
        keyId = null;
        var envelope = DsseJsonLine.Read(line, out var failure);
        if (envelope is null)
        {
            return failure;
        }

        if (!string.Equals(envelope.PayloadType, InTotoFormat.PayloadType, StringComparison.Ordinal))
        {
            return $"payloadType is '{envelope.PayloadType}', expected '{InTotoFormat.PayloadType}'";
        }

        foreach (var signature in envelope.Signatures)
        {
            var key = keys.FirstOrDefault(k => string.Equals(k.KeyId, signature.KeyId, StringComparison.Ordinal));
            if (key is null)
            {
                return $"signed by '{signature.KeyId}', which is not one of the {keys.Count} evidence keys given";
            }

            if (trusted is not null && !string.Equals(key.Fingerprint, trusted, StringComparison.Ordinal))
            {
                return $"signed by evidence key '{key.KeyId}' with fingerprint {key.Fingerprint}, not the trusted {trusted}";
            }
        }

        var payload = Dsse.Verify(envelope, InTotoFormat.PayloadType, id =>
        {
            if (!imported.TryGetValue(id, out var ecdsa))
            {
                var published = keys.FirstOrDefault(k => string.Equals(k.KeyId, id, StringComparison.Ordinal));
                ecdsa = published is null ? null : EvidenceFormat.ImportP256(published.PublicKey);
                imported[id] = ecdsa;
            }

            return ecdsa;
        }, out failure);
        if (payload is null)
        {
            return failure;
        }

        keyId = envelope.Signatures[0].KeyId;
        try
        {
            statement = JsonSerializer.Deserialize<Statement>(payload, EvidenceFormat.Json);
        }
        catch (JsonException ex)
        {
            return $"the payload is not an in-toto statement: {ex.Message}";
        }

        if (statement is null)
        {
            return "the payload is not an in-toto statement: null";
        }

        return string.Equals(statement.Type, InTotoFormat.StatementType, StringComparison.Ordinal)
            ? null
            : $"_type is '{statement.Type}', expected '{InTotoFormat.StatementType}'";
    }

    private static string? CheckSubject(Statement statement, ref InTotoSubject? subject, string? expectedDigest, int? firstLine)
    {
        if (statement.Subject is not [var only])
        {
            return $"the statement has {statement.Subject.Count} subjects; a proposal's statements have exactly one";
        }

        if (!only.Name.StartsWith("proposal/", StringComparison.Ordinal) || !EvidenceFormat.IsId(only.Name["proposal/".Length..]))
        {
            return $"subject name '{only.Name}' is not proposal/<id>";
        }

        if (only.Digest.Count != 1 || !only.Digest.TryGetValue("sha256", out var digest) || Hex("sha256:" + digest) is null)
        {
            return $"subject {only.Name} does not have exactly one digest, sha256 with 64 lowercase hex digits";
        }

        if (subject is null)
        {
            if (expectedDigest is not null && !string.Equals(digest, expectedDigest, StringComparison.Ordinal))
            {
                return $"subject digest sha256:{digest} is not the proposal's content hash sha256:{expectedDigest}";
            }

            subject = new InTotoSubject(only.Name, new Dictionary<string, string> { ["sha256"] = digest });
            return null;
        }

        return string.Equals(only.Name, subject.Name, StringComparison.Ordinal) && string.Equals(digest, subject.Digest["sha256"], StringComparison.Ordinal)
            ? null
            : $"subject {only.Name} sha256:{digest} differs from line {firstLine}'s {subject.Name} sha256:{subject.Digest["sha256"]}";
    }

    private static string? CheckPredicate(Statement statement, int line, string keyId, out VerifiedStatement? verified)
    {
        verified = null;
        if (!Predicates.TryGetValue(statement.PredicateType, out var expected))
        {
            return $"predicateType '{statement.PredicateType}' is not one ControlPlane issues ({string.Join(", ", InTotoFormat.PredicateTypes.Order(StringComparer.Ordinal))})";
        }

        object? predicate;
        try
        {
            predicate = statement.Predicate.Deserialize(expected.Predicate, EvidenceFormat.Json);
        }
        catch (JsonException ex)
        {
            return $"the {Short(statement.PredicateType)} predicate does not have the documented fields: {ex.Message}";
        }

        var (evidence, summary) = predicate switch
        {
            PolicyDecisionAttestation d => (d.Evidence, $"{d.Outcome} by policy {d.Policy.BundleVersion} (rules: {string.Join(", ", d.RulesFired)})"),
            ApprovalAttestation a => (a.Evidence, $"{a.Decision} by {a.ApproverId} (policy {a.PolicyHash}, graph version {a.GraphVersion})"),
            RunnerResultAttestation r => (r.Evidence, $"{r.Step} {r.Outcome}{(r.ExitCode is { } code ? $" (exit {code})" : "")} by {r.RunnerId ?? "no runner"}"),
            _ => (null, ""),
        };
        if (evidence is null)
        {
            return $"the {Short(statement.PredicateType)} predicate is empty";
        }

        if (!string.Equals(evidence.Kind, expected.Kind, StringComparison.Ordinal))
        {
            return $"a {Short(statement.PredicateType)} statement attests a {evidence.Kind} record, expected {expected.Kind}";
        }

        if (evidence.Sequence < 1 || evidence.LeafIndex != evidence.Sequence - 1)
        {
            return $"record {evidence.Sequence} cannot be leaf {evidence.LeafIndex}: leaf i is record i + 1";
        }

        if (!EvidenceFormat.TryDecodeStrictBase64(evidence.LeafHash, out var leaf) || leaf.Length != 32)
        {
            return $"the leaf hash of record {evidence.Sequence} is not base64 of 32 bytes";
        }

        if (!EvidenceFormat.IsHash(evidence.RecordHash) || !EvidenceFormat.IsId(evidence.RecordId))
        {
            return $"record {evidence.Sequence}'s id or hash is malformed";
        }

        verified = new VerifiedStatement(line, statement.PredicateType, keyId, evidence, summary);
        return null;
    }

    /// <summary>The last two path segments of a predicate type: "approval/v1".</summary>
    public static string Short(string predicateType)
    {
        ArgumentNullException.ThrowIfNull(predicateType);
        var parts = predicateType.Split('/');
        return parts.Length >= 2 ? $"{parts[^2]}/{parts[^1]}" : predicateType;
    }

    /// <summary>The 64 lowercase hex digits of "sha256:&lt;hex&gt;" or of bare hex; null when it is neither.</summary>
    private static string? Hex(string hash)
    {
        var prefixed = hash.StartsWith("sha256:", StringComparison.Ordinal) ? hash : "sha256:" + hash;
        return EvidenceFormat.IsHash(prefixed) ? prefixed["sha256:".Length..] : null;
    }

    private sealed record Statement(
        [property: JsonPropertyName("_type")] string Type,
        IReadOnlyList<InTotoSubject> Subject,
        string PredicateType,
        JsonElement Predicate);
}
