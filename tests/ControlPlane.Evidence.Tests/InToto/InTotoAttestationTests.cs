using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Attestations;
using ControlPlane.Evidence.Verification.InToto;
using ControlPlane.Evidence.Verification.Transparency;
using ControlPlane.EvidenceScenarios;

namespace ControlPlane.Evidence.Tests.InToto;

/// <summary>In-toto statements built from a signed scenario's records, and the verifier's refusals (pure, no servers).</summary>
public sealed class InTotoAttestationTests : IDisposable
{
    private const string Log = "test.example/evidence";
    private readonly EvidenceScenario _scenario = EvidenceScenario.Create(workSteps: 2);

    [Fact]
    public void PAE_matches_the_DSSE_spec_example()
    {
        var pae = Dsse.PreAuthenticationEncoding("http://example.com/HelloWorld", "hello world"u8);

        Assert.Equal("DSSEv1 29 http://example.com/HelloWorld 11 hello world", Encoding.UTF8.GetString(pae));
    }

    [Fact]
    public void One_statement_per_decision_approval_and_result_each_naming_the_proposal_and_its_record()
    {
        var statements = Build();

        Assert.Equal([InTotoFormat.PolicyDecisionPredicate, InTotoFormat.ApprovalPredicate, InTotoFormat.RunnerResultPredicate, InTotoFormat.RunnerResultPredicate],
            statements.Select(s => s.PredicateType));
        Assert.All(statements, s =>
        {
            Assert.Equal(InTotoFormat.StatementType, s.Type);
            var subject = Assert.Single(s.Subject);
            Assert.Equal($"proposal/{_scenario.ProposalId:D}", subject.Name);
            Assert.Equal(new string('a', 64), subject.Digest["sha256"]);
        });

        var approval = (ApprovalAttestation)statements[1].Predicate;
        var record = _scenario.ProposalRecords.Single(r => r.Kind == nameof(ApprovalRecorded));
        Assert.Equal(new AttestedRecord(Log, record.Sequence, record.Sequence - 1, LeafHash(record.Sequence), record.RecordId, record.Kind, record.RecordHash), approval.Evidence);
        Assert.Equal(("alice@example.com", "approve", true), (approval.ApproverId, approval.Decision, approval.HasComment));

        var decision = (PolicyDecisionAttestation)statements[0].Predicate;
        Assert.Equal(("require-approval", "PT4H", "2026.11.1"), (decision.Outcome, decision.Approval!.ExpiresAfter, decision.Policy.BundleVersion));
        var result = (RunnerResultAttestation)statements[3].Predicate;
        Assert.Equal(("verify", "succeeded", 0, "PT3S", EvidenceScenario.RunnerKeyId), (result.Step, result.Outcome, result.ExitCode, result.Duration, result.SignedResult!.KeyId));
    }

    [Fact]
    public void Comments_and_command_output_never_reach_a_signed_statement()
    {
        var lines = Sign(Build(), _scenario.EvidenceKey, EvidenceScenario.EvidenceKeyId);
        var payloads = string.Join("\n", lines.Select(l => Encoding.UTF8.GetString(Convert.FromBase64String(JsonNode.Parse(l)!["payload"]!.GetValue<string>()))));

        Assert.DoesNotContain("leak confirmed in dashboards", payloads, StringComparison.Ordinal);
        Assert.DoesNotContain("3/3 replicas ready", payloads, StringComparison.Ordinal);
        Assert.Contains("\"hasComment\":true", payloads, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signed_export_verifies_with_the_evidence_key_and_pins_the_content_hash()
    {
        var bundle = Bundle(Build());

        var result = InTotoVerifier.Verify(bundle, Keys(), new InTotoVerifyOptions(_scenario.EvidenceKeyFingerprint, "sha256:" + new string('a', 64)));

        Assert.True(result.Ok, result.Failure);
        Assert.Equal(4, result.Statements.Count);
        Assert.Equal(_scenario.ProposalRecords.Where(r => r.Kind is nameof(PolicyDecided) or nameof(ApprovalRecorded) or nameof(WorkCompleted)).Select(r => r.Sequence),
            result.Statements.Select(s => s.Evidence.Sequence));
        var other = InTotoVerifier.Verify(bundle, Keys(), new InTotoVerifyOptions(ContentHash: "sha256:" + new string('b', 64)));
        Assert.Equal((1, $"subject digest sha256:{new string('a', 64)} is not the proposal's content hash sha256:{new string('b', 64)}"), (other.FailedLine, other.Failure));
    }

    [Fact]
    public void A_changed_payload_fails_its_signature()
    {
        var lines = Sign(Build(), _scenario.EvidenceKey, EvidenceScenario.EvidenceKeyId);
        var envelope = JsonNode.Parse(lines[1])!.AsObject();
        var statement = Encoding.UTF8.GetString(Convert.FromBase64String(envelope["payload"]!.GetValue<string>()));
        envelope["payload"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(statement.Replace("\"approve\"", "\"reject\"", StringComparison.Ordinal)));
        lines[1] = envelope.ToJsonString();

        var result = InTotoVerifier.Verify(string.Join("\n", lines), Keys());

        Assert.Equal((2, $"signature by '{EvidenceScenario.EvidenceKeyId}' does not verify"), (result.FailedLine, result.Failure));
        Assert.Single(result.Statements);
    }

    [Fact]
    public void A_changed_payload_type_fails_even_when_re_signed_for_that_type()
    {
        var statement = Build()[0];
        var relabelled = DsseJsonLine.Write(Dsse.Sign(statement, "application/json", _scenario.EvidenceKey, EvidenceScenario.EvidenceKeyId));
        var swapped = JsonNode.Parse(Sign([statement], _scenario.EvidenceKey, EvidenceScenario.EvidenceKeyId)[0])!.AsObject();
        swapped["payloadType"] = "application/json";

        var relabelledResult = InTotoVerifier.Verify(relabelled, Keys());
        var swappedResult = InTotoVerifier.Verify(swapped.ToJsonString(), Keys());

        Assert.Equal("payloadType is 'application/json', expected 'application/vnd.in-toto+json'", relabelledResult.Failure);
        Assert.Equal(relabelledResult.Failure, swappedResult.Failure);
    }

    [Fact]
    public void A_statement_signed_by_another_key_under_the_evidence_key_id_fails()
    {
        using var mallory = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var bundle = Bundle(Build(), mallory);

        var result = InTotoVerifier.Verify(bundle, Keys());
        var pinned = InTotoVerifier.Verify(Bundle(Build()), Keys(), new InTotoVerifyOptions("sha256:" + new string('1', 64)));

        Assert.Equal((1, $"signature by '{EvidenceScenario.EvidenceKeyId}' does not verify"), (result.FailedLine, result.Failure));
        Assert.StartsWith($"signed by evidence key '{EvidenceScenario.EvidenceKeyId}' with fingerprint {_scenario.EvidenceKeyFingerprint}, not the trusted", pinned.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_validly_signed_statement_about_another_subject_fails()
    {
        var statements = Build().ToList();
        statements[2] = statements[2] with { Subject = [new InTotoSubject(statements[2].Subject[0].Name, new Dictionary<string, string> { ["sha256"] = new string('e', 64) })] };

        var result = InTotoVerifier.Verify(Bundle(statements), Keys());

        Assert.Equal(3, result.FailedLine);
        Assert.Equal($"subject proposal/{_scenario.ProposalId:D} sha256:{new string('e', 64)} differs from line 1's proposal/{_scenario.ProposalId:D} sha256:{new string('a', 64)}", result.Failure);
    }

    [Fact]
    public void A_statement_of_another_type_or_pointing_at_the_wrong_leaf_fails()
    {
        var statement = Build()[1];
        var approval = (ApprovalAttestation)statement.Predicate;
        var wrongType = statement with { Type = "https://in-toto.io/Statement/v0.1" };
        var wrongLeaf = statement with { Predicate = approval with { Evidence = approval.Evidence with { LeafIndex = approval.Evidence.Sequence } } };

        Assert.Equal("_type is 'https://in-toto.io/Statement/v0.1', expected 'https://in-toto.io/Statement/v1'", InTotoVerifier.Verify(Bundle([wrongType]), Keys()).Failure);
        Assert.Equal($"record {approval.Evidence.Sequence} cannot be leaf {approval.Evidence.Sequence}: leaf i is record i + 1", InTotoVerifier.Verify(Bundle([wrongLeaf]), Keys()).Failure);
        Assert.Equal("the bundle holds no statements", InTotoVerifier.Verify("\n", Keys()).Failure);
    }

    [Fact]
    public void Without_a_submitted_record_there_is_no_subject()
    {
        var records = _scenario.ProposalRecords.Where(r => r.Kind != nameof(ProposalSubmitted)).ToList();

        Assert.Throws<NoSubjectException>(() => InTotoAttestations.Build(records, LeafHash, Log));
    }

    [Fact]
    public void Attestations_are_tied_to_the_bundle_that_holds_and_proves_their_records()
    {
        var verified = InTotoVerifier.Verify(Bundle(Build()), Keys());
        var inclusions = _scenario.ProposalRecords.Select(r => new BundleInclusion(r.Sequence, [])).ToList();
        var bundle = _scenario.Bundle() with { Log = new BundleLog($"{Log}\n{_scenario.Ledger.Records.Count}\nroot\n", inclusions) };
        var approval = verified.Statements[1].Evidence;

        Assert.Null(InTotoBundleLink.Check(verified, bundle));
        Assert.Equal("the bundle carries no transparency-log section", InTotoBundleLink.Check(verified, bundle with { Log = null }));
        Assert.Equal($"line 2 (record {approval.Sequence}): the bundle's log ({Log}) does not prove it, or the statement names another log ({Log})",
            InTotoBundleLink.Check(verified, bundle with { Log = bundle.Log! with { Inclusions = [.. inclusions.Where(i => i.Sequence != approval.Sequence)] } }));
        Assert.Equal($"line 2 (record {approval.Sequence}): the bundle holds no record {approval.Sequence}",
            InTotoBundleLink.Check(verified, bundle with { Records = [.. bundle.Records.Where(r => r.Sequence != approval.Sequence)] }));
        Assert.StartsWith("the bundle is of proposal", InTotoBundleLink.Check(verified, bundle with { ProposalId = Guid.NewGuid().ToString("D") }), StringComparison.Ordinal);
    }

    public void Dispose() => _scenario.Dispose();

    private IReadOnlyList<InTotoStatement> Build() => InTotoAttestations.Build(_scenario.ProposalRecords, LeafHash, Log);

    private string LeafHash(long sequence) =>
        Convert.ToBase64String(BundleLogVerifier.LeafHash(_scenario.Ledger.Records.Single(r => r.Sequence == sequence).RecordHash));

    private string Bundle(IEnumerable<InTotoStatement> statements, ECDsa? key = null) =>
        string.Join("\n", Sign(statements, key ?? _scenario.EvidenceKey, EvidenceScenario.EvidenceKeyId)) + "\n";

    private static List<string> Sign(IEnumerable<InTotoStatement> statements, ECDsa key, string keyId) =>
        [.. statements.Select(s => InTotoAttestations.Sign(s, new EvidenceSigner(key, keyId)))];

    private EvidencePublicKey[] Keys()
    {
        var spki = _scenario.EvidenceKey.ExportSubjectPublicKeyInfo();
        return [new EvidencePublicKey(EvidenceScenario.EvidenceKeyId, "ES256", Convert.ToBase64String(spki), EvidenceFormat.KeyFingerprint(spki), "2026-11-21T09:00:00.000000Z")];
    }
}
