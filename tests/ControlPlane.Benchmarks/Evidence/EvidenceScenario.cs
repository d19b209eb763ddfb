using System.Security.Cryptography;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;

namespace ControlPlane.EvidenceScenarios;

// Shared by the evidence benchmarks and, as a linked source file, by tests/ControlPlane.Evidence.Tests and
// tests/ControlPlane.Cli.Tests: one realistic governed action, signed with real keys, so every suite checks
// the same kind of bundle.

/// <summary>An event of the scenario and what evidence would file it under.</summary>
internal sealed record ScenarioEvent(object Message, Guid? ProposalId, string? Actor, DateTimeOffset OccurredAt);

/// <summary>An in-memory evidence chain built with the same sealing rules as the service.</summary>
internal sealed class EvidenceLedger
{
    private readonly List<EvidenceRecord> _records = [];
    private readonly Dictionary<Guid, string> _proposalHeads = [];

    public IReadOnlyList<EvidenceRecord> Records => _records;

    public ChainHead Head => _records.Count == 0 ? new ChainHead(0, EvidenceFormat.Genesis) : new ChainHead(_records[^1].Sequence, _records[^1].RecordHash);

    public EvidenceRecord Append(ScenarioEvent e)
    {
        var draft = new EvidenceDraft(e.Message.GetType().Name, e.ProposalId, e.Actor, e.OccurredAt, CanonicalJson.Serialize(System.Text.Json.JsonSerializer.SerializeToNode(e.Message, e.Message.GetType(), ContractJson.Options)));
        var proposalPrev = e.ProposalId is { } p ? _proposalHeads.GetValueOrDefault(p, EvidenceFormat.Genesis) : null;
        var record = EvidenceChain.Seal(draft, new ChainPosition(Head.Sequence + 1, Head.RecordHash, proposalPrev), Guid.CreateVersion7(), e.OccurredAt.AddMilliseconds(5));
        if (e.ProposalId is { } id)
        {
            _proposalHeads[id] = record.RecordHash;
        }

        _records.Add(record);
        return record;
    }
}

/// <summary>
/// The billing walk-through as events: keys announced, proposal submitted, assessed, decided, approved, then
/// <c>workSteps</c> signed work packages with signed results, ending completed: 11 + 3 x workSteps + refusals
/// records of the proposal. Optionally interleaved with
/// another proposal's and the graph's events, so the proposal's records are not contiguous in the global chain.
/// </summary>
internal sealed class EvidenceScenario : IDisposable
{
    public const string FleetKeyId = "fleet-key-1";
    public const string RunnerId = "runner-billing-1";
    public const string RunnerKeyId = "runner-billing-1-key";
    public const string EvidenceKeyId = "evidence-test-key";

    private EvidenceScenario(Guid proposalId)
    {
        ProposalId = proposalId;
    }

    public Guid ProposalId { get; }

    public ECDsa FleetKey { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public ECDsa RunnerKey { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public ECDsa EvidenceKey { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The events in publication order (keys of fleet and runner first; evidence's key is not among them).</summary>
    public List<ScenarioEvent> Events { get; } = [];

    public EvidenceLedger Ledger { get; } = new();

    /// <param name="refusals">Refused transitions recorded after completion (an agent cancelling too late), to size bundles exactly.</param>
    public static EvidenceScenario Create(int workSteps = 2, bool interleave = true, int refusals = 0)
    {
        var scenario = new EvidenceScenario(Guid.NewGuid());
        scenario.Write(workSteps, refusals, new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));
        var other = Guid.NewGuid();
        scenario.Ledger.Append(KeyEvent("evidence", EvidenceFormat.EvidenceOwner, EvidenceKeyId, scenario.EvidenceKey, scenario.Events[0].OccurredAt));
        var i = 0;
        foreach (var e in scenario.Events)
        {
            scenario.Ledger.Append(e);
            if (interleave && i++ % 3 == 0)
            {
                var at = e.OccurredAt.AddMilliseconds(1);
                scenario.Ledger.Append(i % 2 == 0
                    ? new ScenarioEvent(new ProposalStateChanged(other, ProposalState.Submitted, ProposalState.Assessing, "assess", "system-graph", i, at), other, "system-graph", at)
                    : new ScenarioEvent(new GraphChanged(i, "node-upserted", "search", "graph-admin@example.com", at), null, "graph-admin@example.com", at));
            }
        }

        return scenario;
    }

    /// <summary>Records of the proposal only, in order.</summary>
    public IReadOnlyList<EvidenceRecord> ProposalRecords =>
        [.. Ledger.Records.Where(r => r.ProposalId == EvidenceFormat.Id(ProposalId))];

    public EvidenceBundle Bundle() => EvidenceBundleBuilder.Build(ProposalId, ProposalRecords,
        Ledger.Records.Where(r => r.Kind == nameof(SigningKeyPublished)), Ledger.Head, new EvidenceSigner(EvidenceKey, EvidenceKeyId),
        Events[^1].OccurredAt.AddSeconds(1));

    public byte[] BundleJson() => EvidenceBundleBuilder.Serialize(Bundle());

    /// <summary>Evidence key fingerprint, as an operator would pin it.</summary>
    public string EvidenceKeyFingerprint => EvidenceFormat.KeyFingerprint(EvidenceKey.ExportSubjectPublicKeyInfo());

    public static ScenarioEvent KeyEvent(string owner, string ownerKind, string keyId, ECDsa key, DateTimeOffset at) =>
        new(new SigningKeyPublished(owner, ownerKind, keyId, Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()), at), null, owner, at);

    public void Dispose()
    {
        FleetKey.Dispose();
        RunnerKey.Dispose();
        EvidenceKey.Dispose();
    }

    private void Write(int workSteps, int refusals, DateTimeOffset t0)
    {
        var id = ProposalId;
        var t = t0;
        DateTimeOffset Next() => t = t.AddSeconds(1);
        const string agent = "remediation-agent";
        const string approver = "alice@example.com";
        var state = ProposalState.Submitted;
        var version = 0L;
        void Move(ProposalState to, string reason, string actor) =>
            Add(new ProposalStateChanged(id, state, state = to, reason, actor, ++version, Next()), actor);
        void Add(object message, string? actor) => Events.Add(new ScenarioEvent(message, message is SigningKeyPublished ? null : id, actor, t));

        Events.Add(KeyEvent("fleet", EvidenceFormat.FleetOwner, FleetKeyId, FleetKey, Next()));
        Events.Add(KeyEvent(RunnerId, EvidenceFormat.RunnerOwner, RunnerKeyId, RunnerKey, Next()));

        var submitted = new ProposalSubmitted(id, "sha256:" + new string('a', 64), agent, "sam@example.com", "remediation",
            new ProposedAction("restart", "Restart billing to clear a memory leak", new Dictionary<string, string> { ["replicas"] = "3", ["strategy"] = "rolling" }),
            ["billing"], "production", new ChangeReference("sha256:" + new string('b', 64), "git@example.com:billing.git#a1b2c3", "roll back to image 41"), Next());
        Add(submitted, agent);
        Move(ProposalState.Assessing, "assessment requested", "orchestrator");
        var impact = new ImpactReport(7, ["billing"],
            [new ImpactedNode("checkout", 1, ["billing", "checkout"], 0, "payments", true, ["pci"], true)],
            0, ["pci", "pii"], true, true, ["payments"], [], ["revenue path", "regulated data: pci"], Next());
        Add(new ImpactAssessed(id, submitted, impact), "system-graph");
        Add(new PolicyDecided(id, submitted.ContentHash, 7, new PolicyDecision(DecisionOutcome.RequireApproval, ["production change on the revenue path"],
            ["prod-revenue-path"], "sha256:" + new string('c', 64), "2026.11.1", new ApprovalRequirement(1, ["approver"], TimeSpan.FromHours(4)),
            [new StepRequirement("smoke", "http-check", new Dictionary<string, string> { ["url"] = "http://billing/health" })], [], Next())), "policy");
        Move(ProposalState.AwaitingApproval, "policy requires approval", "policy");
        Add(new ApprovalRecorded(id, approver, "Alice Approver", ApprovalDecision.Approve, "leak confirmed in dashboards", submitted.ContentHash, 7,
            "sha256:" + new string('c', 64), Next()), approver);
        Move(ProposalState.Authorized, "approved by alice@example.com", approver);
        Move(ProposalState.Scheduled, "leases taken", "orchestrator");
        Move(ProposalState.Executing, "work issued", "orchestrator");

        for (var step = 0; step < workSteps; step++)
        {
            var workId = Guid.NewGuid();
            var kind = step == workSteps - 1 ? WorkStep.Verify : WorkStep.Execute;
            var fleet = kind == WorkStep.Verify ? "testing" : "remediation";
            Add(new WorkRequested(id, workId, kind, $"step-{step}", fleet, "run-command", new Dictionary<string, string> { ["command"] = "restart-billing" },
                ["billing"], "production", submitted.ContentHash, new Dictionary<string, long> { ["billing"] = step + 1 }, TimeSpan.FromMinutes(5), Next()), "orchestrator");
            var package = new WorkPackage(workId, id, submitted.ContentHash, kind, $"step-{step}", "run-command",
                new Dictionary<string, string> { ["command"] = "restart-billing" }, ["billing"], "production",
                new Dictionary<string, long> { ["billing"] = step + 1 }, t, t.AddMinutes(10), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
                RunnerId, fleet, "fleet");
            Add(new WorkPackageIssued(id, workId, kind, fleet, RunnerId, Dsse.Sign(package, WorkPackage.PayloadType, FleetKey, FleetKeyId), Next()), "fleet");
            var result = new WorkResult(workId, id, kind, RunnerId, WorkOutcome.Succeeded, 0, TimeSpan.FromSeconds(3),
                "sha256:" + new string('d', 64), "billing restarted: 3/3 replicas ready", null, Next());
            Add(new WorkCompleted(id, workId, kind, RunnerId, WorkOutcome.Succeeded, Dsse.Sign(result, WorkResult.PayloadType, RunnerKey, RunnerKeyId), null, Next()), RunnerId);
            if (step == workSteps - 2)
            {
                Move(ProposalState.Verifying, "execution succeeded", "orchestrator");
            }
        }

        Move(ProposalState.Completed, "verification passed", "orchestrator");
        for (var i = 0; i < refusals; i++)
        {
            Add(new ProposalTransitionRefused(id, ProposalState.Completed, "cancel", "the proposal is already completed", Next()), null);
        }
    }
}
