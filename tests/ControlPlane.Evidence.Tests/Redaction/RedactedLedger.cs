using System.Security.Cryptography;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Redaction;
using ControlPlane.Evidence.Verification.Redaction;
using ControlPlane.EvidenceScenarios;

namespace ControlPlane.Evidence.Tests.Redaction;

/// <summary>
/// The scenario's governed action sealed the way the service seals it now: sensitive fields committed
/// (<see cref="SensitiveFields.Commit"/>), their values and salts kept aside; plus a step whose parameters name a
/// secret. Bundles come from the service's own <see cref="BundleDisclosures.Commitments"/>.
/// </summary>
internal sealed class RedactedLedger : IDisposable
{
    public const string Secret = "s3cr3t-api-token-value";

    private readonly List<EvidenceRecord> _records = [];
    private readonly Dictionary<Guid, string> _proposalHeads = [];

    public RedactedLedger()
    {
        var t = Scenario.Events[0].OccurredAt;
        Append(EvidenceScenario.KeyEvent("evidence", EvidenceFormat.EvidenceOwner, EvidenceScenario.EvidenceKeyId, Scenario.EvidenceKey, t));
        foreach (var e in Scenario.Events)
        {
            Append(e);
        }

        // A step whose parameters carry a secret: committed in the request and, whole, in the signed package.
        var id = Scenario.ProposalId;
        var at = Scenario.Events[^1].OccurredAt.AddSeconds(1);
        var workId = Guid.NewGuid();
        var parameters = new Dictionary<string, string> { ["command"] = "rotate", ["apiToken"] = Secret };
        Append(new ScenarioEvent(new WorkRequested(id, workId, WorkStep.Execute, "rotate", "remediation", "run-command", parameters, ["billing"], "production",
            "sha256:" + new string('a', 64), new Dictionary<string, long> { ["billing"] = 9 }, TimeSpan.FromMinutes(5), at), id, "orchestrator", at));
        var package = new WorkPackage(workId, id, "sha256:" + new string('a', 64), WorkStep.Execute, "rotate", "run-command", parameters, ["billing"], "production",
            new Dictionary<string, long> { ["billing"] = 9 }, at, at.AddMinutes(10), "00ff", EvidenceScenario.RunnerId, "remediation", "fleet");
        Append(new ScenarioEvent(new WorkPackageIssued(id, workId, WorkStep.Execute, "remediation", EvidenceScenario.RunnerId,
            Dsse.Sign(package, WorkPackage.PayloadType, Scenario.FleetKey, EvidenceScenario.FleetKeyId), at.AddSeconds(1)), id, "fleet", at.AddSeconds(1)));
    }

    public EvidenceScenario Scenario { get; } = EvidenceScenario.Create(workSteps: 2, interleave: false);

    public IReadOnlyList<EvidenceRecord> Records => _records;

    public List<StoredField> Fields { get; } = [];

    public IReadOnlyList<EvidenceRecord> ProposalRecords => [.. _records.Where(r => r.ProposalId == EvidenceFormat.Id(Scenario.ProposalId))];

    public EvidenceBundle Bundle(bool disclose) => EvidenceBundleBuilder.Build(Scenario.ProposalId, ProposalRecords,
        _records.Where(r => r.Kind == nameof(SigningKeyPublished)), new ChainHead(_records[^1].Sequence, _records[^1].RecordHash),
        new EvidenceSigner(Scenario.EvidenceKey, EvidenceScenario.EvidenceKeyId), Scenario.Events[^1].OccurredAt.AddMinutes(1),
        commitments: BundleDisclosures.Commitments(ProposalRecords, Fields, disclose));

    public byte[] BundleJson(bool disclose) => EvidenceBundleBuilder.Serialize(Bundle(disclose));

    public void Dispose() => Scenario.Dispose();

    private void Append(ScenarioEvent e)
    {
        var kind = e.Message.GetType().Name;
        var canonical = CanonicalJson.Serialize(JsonSerializer.SerializeToNode(e.Message, e.Message.GetType(), ContractJson.Options));
        var (payload, fields) = SensitiveFields.Commit(kind, canonical, () => RandomNumberGenerator.GetBytes(FieldCommitment.SaltBytes));
        var draft = new EvidenceDraft(kind, e.ProposalId, e.Actor, e.OccurredAt, payload);
        var head = _records.Count == 0 ? new ChainHead(0, EvidenceFormat.Genesis) : new ChainHead(_records[^1].Sequence, _records[^1].RecordHash);
        var proposalPrev = e.ProposalId is { } p ? _proposalHeads.GetValueOrDefault(p, EvidenceFormat.Genesis) : null;
        var record = EvidenceChain.Seal(draft, new ChainPosition(head.Sequence + 1, head.RecordHash, proposalPrev), Guid.CreateVersion7(), e.OccurredAt.AddMilliseconds(5));
        if (e.ProposalId is { } id)
        {
            _proposalHeads[id] = record.RecordHash;
        }

        _records.Add(record);
        Fields.AddRange(fields.Select(f => new StoredField(record.Sequence, f.Path, System.Text.Encoding.UTF8.GetString(f.CanonicalValue), f.Salt, f.Commitment)));
    }
}
