using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Redaction;
using ControlPlane.Evidence.Verification.InToto;

namespace ControlPlane.Evidence.Attestations;

/// <summary>The proposal's content hash is not in its evidence, so no statement can name it as subject.</summary>
public sealed class NoSubjectException(string message) : Exception(message);

/// <summary>
/// Turns a proposal's evidence records into in-toto statements (pure, no I/O): one per policy decision
/// (PolicyDecided), human decision (ApprovalRecorded) and step result (WorkCompleted), in record order, each with
/// subject proposal/&lt;id&gt; and the proposal's content hash (from its ProposalSubmitted record) as sha256 digest, and
/// a pointer to the record it attests. Approver comments and command output are never copied into a predicate.
/// </summary>
public static class InTotoAttestations
{
    /// <param name="leafHash">The transparency log's leaf hash of a record sequence, base64.</param>
    /// <param name="log">The log's origin (the checkpoint's first line).</param>
    public static IReadOnlyList<InTotoStatement> Build(IReadOnlyList<EvidenceRecord> records, Func<long, string> leafHash, string log)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(leafHash);
        var submitted = records.FirstOrDefault(r => r.Kind == nameof(ProposalSubmitted));
        var contentHash = (submitted?.Payload as JsonObject)?["contentHash"] is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;
        if (submitted?.ProposalId is null || !EvidenceFormat.IsHash(contentHash))
        {
            throw new NoSubjectException("Evidence holds no ProposalSubmitted record with the proposal's content hash, so no statement can name the proposal as its subject.");
        }

        InTotoSubject[] subject = [new(InTotoFormat.SubjectName(submitted.ProposalId), new Dictionary<string, string> { ["sha256"] = contentHash!["sha256:".Length..] })];
        var statements = new List<InTotoStatement>();
        foreach (var record in records)
        {
            AttestedRecord Attested() => new(log, record.Sequence, record.Sequence - 1, leafHash(record.Sequence), record.RecordId, record.Kind, record.RecordHash);
            (string Type, object Predicate)? predicate = record.Kind switch
            {
                nameof(PolicyDecided) => (InTotoFormat.PolicyDecisionPredicate, Decision(Read<PolicyDecided>(record), record, Attested())),
                nameof(ApprovalRecorded) => (InTotoFormat.ApprovalPredicate, Approval(Read<ApprovalRecorded>(record, without: "comment"), record, Attested())),
                nameof(WorkCompleted) => (InTotoFormat.RunnerResultPredicate, Result(Read<WorkCompleted>(record), record, Attested())),
                _ => null,
            };
            if (predicate is { } p)
            {
                statements.Add(new InTotoStatement(InTotoFormat.StatementType, subject, p.Type, p.Predicate));
            }
        }

        return statements;
    }

    /// <summary>
    /// The records with each committed runner-result payload (`/signedResult/payload`) put back from its stored value,
    /// so the runner-result predicate can carry the result's digest, exit code and output digest. Other committed
    /// fields (comments, secret parameters) stay commitments: no predicate reads them.
    /// </summary>
    public static IReadOnlyList<EvidenceRecord> WithResultPayloads(IReadOnlyList<EvidenceRecord> records, IReadOnlyList<StoredField> fields)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(fields);
        var payloads = fields.Where(f => f.Path == ResultPayloadPath).ToDictionary(f => f.Sequence, f => f.Value);
        return [.. records.Select(r =>
            payloads.TryGetValue(r.Sequence, out var value) && r.Payload is JsonObject payload && payload["signedResult"] is JsonObject
                ? r with { Payload = Restored(payload, value) }
                : r)];
    }

    private const string ResultPayloadPath = "/signedResult/payload";

    private static JsonObject Restored(JsonObject payload, string canonicalValue)
    {
        var copy = payload.DeepClone().AsObject();
        copy["signedResult"]!["payload"] = JsonNode.Parse(canonicalValue);
        return copy;
    }

    /// <summary>Signs a statement as DSSE over its canonical JSON and spells the envelope as one JSON line.</summary>
    public static string Sign(InTotoStatement statement, EvidenceSigner signer)
    {
        ArgumentNullException.ThrowIfNull(signer);
        return DsseJsonLine.Write(Dsse.Sign(statement, InTotoFormat.PayloadType, signer.Key, signer.KeyId));
    }

    private static PolicyDecisionAttestation Decision(PolicyDecided decided, EvidenceRecord record, AttestedRecord evidence)
    {
        var d = decided.Decision;
        return new PolicyDecisionAttestation(Kebab(d.Outcome), d.Reasons, d.RulesFired, new PolicyBundleReference(d.BundleHash, d.BundleVersion),
            decided.GraphVersion, [.. d.Validations.Select(s => s.Name)], [.. d.Verifications.Select(s => s.Name)], record.OccurredAt, evidence,
            d.Approval is { } a ? new RequiredApproval(a.Count, a.Roles, XmlConvert.ToString(a.ExpiresAfter), a.ChangeRequest) : null);
    }

    private static ApprovalAttestation Approval(ApprovalRecorded approval, EvidenceRecord record, AttestedRecord evidence) =>
        new(approval.ApproverId, approval.ApproverName, Kebab(approval.Decision), approval.ProposalHash, approval.GraphVersion, approval.PolicyHash,
            // Presence only: the comment member may be absent, null, or (redacted) a commitment instead of the text.
            (record.Payload as JsonObject)?["comment"] is not null, record.OccurredAt, evidence, approval.PlanHash);

    private static RunnerResultAttestation Result(WorkCompleted completed, EvidenceRecord record, AttestedRecord evidence)
    {
        var signed = completed.SignedResult;
        WorkResult? result = null;
        SignedResultReference? reference = null;
        if (signed is not null && EvidenceFormat.TryDecodeStrictBase64(signed.Payload, out var payload))
        {
            reference = new SignedResultReference(signed.PayloadType, signed.Signatures.FirstOrDefault()?.KeyId ?? "",
                "sha256:" + Convert.ToHexStringLower(SHA256.HashData(payload)));
            try
            {
                result = JsonSerializer.Deserialize<WorkResult>(payload, ContractJson.Options);
            }
            catch (JsonException)
            {
                // Recorded as received; the bundle verifier names a result that does not parse.
            }
        }

        return new RunnerResultAttestation(EvidenceFormat.Id(completed.WorkId), Kebab(completed.Step), Kebab(completed.Outcome), record.OccurredAt, evidence,
            string.IsNullOrEmpty(completed.RunnerId) ? null : completed.RunnerId, result?.ExitCode,
            result is null ? null : XmlConvert.ToString(result.Duration), result?.OutputDigest, reference);
    }

    /// <param name="without">A member left out before reading: one whose recorded shape may differ (redacted), and that no predicate carries.</param>
    private static T Read<T>(EvidenceRecord record, string? without = null)
    {
        var payload = record.Payload;
        if (without is not null && payload is JsonObject members && members.ContainsKey(without))
        {
            var copy = members.DeepClone().AsObject();
            copy.Remove(without);
            payload = copy;
        }

        return payload.Deserialize<T>(ContractJson.Options) ?? throw new JsonException($"record {record.Sequence} ({record.Kind}) has no payload");
    }

    /// <summary>An enum as the wire spells it ("require-approval").</summary>
    private static string Kebab<TEnum>(TEnum value) where TEnum : struct, Enum =>
        JsonSerializer.SerializeToNode(value, ContractJson.Options)!.GetValue<string>();
}
