using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification;
using ControlPlane.EvidenceScenarios;

namespace ControlPlane.Evidence.Tests.Chain;

/// <summary>The offline verifier's checks that a single byte flip cannot reach: keys of the wrong kind or owner, spliced records.</summary>
public sealed class BundleVerifierTests : IDisposable
{
    private readonly EvidenceScenario _scenario = EvidenceScenario.Create(workSteps: 2);

    [Fact]
    public void A_bundle_built_from_records_verifies_with_every_check()
    {
        var checks = new List<string>();

        var result = EvidenceBundleVerifier.Verify(_scenario.BundleJson(), new BundleVerifyOptions(_scenario.EvidenceKeyFingerprint), (check, _) => checks.Add(check));

        Assert.True(result.Ok, result.Failure);
        Assert.Equal(
            [EvidenceBundleVerifier.ShapeCheck, EvidenceBundleVerifier.PayloadHashCheck, EvidenceBundleVerifier.RecordHashCheck, EvidenceBundleVerifier.ChainCheck,
             EvidenceBundleVerifier.RedactionCheck, EvidenceBundleVerifier.KeysCheck, EvidenceBundleVerifier.WorkPackagesCheck, EvidenceBundleVerifier.ResultsCheck, EvidenceBundleVerifier.SummaryCheck,
             EvidenceBundleVerifier.CheckpointCheck, EvidenceBundleVerifier.LogCheck],
            checks);
    }

    [Fact]
    public void The_bundle_carries_the_keys_from_their_records_and_the_summary_from_the_records()
    {
        var bundle = _scenario.Bundle();

        Assert.Equal([EvidenceScenario.EvidenceKeyId, EvidenceScenario.FleetKeyId, EvidenceScenario.RunnerKeyId], bundle.Keys.Select(k => k.KeyId));
        Assert.All(bundle.Keys, k => Assert.Equal(nameof(SigningKeyPublished), k.Record.Kind));
        Assert.Equal("production", bundle.Proposal!["environment"]!.GetValue<string>());
        Assert.Equal("require-approval", bundle.Decision!["decision"]!["outcome"]!.GetValue<string>());
        Assert.Single(bundle.Approvals);
        Assert.Equal(2, bundle.WorkPackages.Count);
        Assert.Equal(2, bundle.Results.Count);
    }

    [Fact]
    public void A_result_signed_with_the_fleet_key_is_refused_as_the_wrong_kind_of_key()
    {
        var result = _scenario.Bundle().Results[0];
        var resigned = Dsse.Sign(Convert.FromBase64String(result.SignedResult.Payload), WorkResult.PayloadType, _scenario.FleetKey, EvidenceScenario.FleetKeyId);

        var verification = Verify(b => b["results"]![0]!["signedResult"] = JsonSerializer.SerializeToNode(resigned, EvidenceFormat.Json));

        Assert.Equal($"result {result.WorkId}: signed by '{EvidenceScenario.FleetKeyId}', a fleet key, not a runner key", verification.Failure);
    }

    [Fact]
    public void A_runner_key_only_vouches_for_its_own_runner()
    {
        // A bundle where a second runner's key signed a result claiming to be the first runner's.
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var ledger = new EvidenceLedger();
        var proposalId = Guid.NewGuid();
        var t = DateTimeOffset.UnixEpoch;
        ledger.Append(EvidenceScenario.KeyEvent("evidence", EvidenceFormat.EvidenceOwner, EvidenceScenario.EvidenceKeyId, _scenario.EvidenceKey, t));
        ledger.Append(EvidenceScenario.KeyEvent("runner-2", EvidenceFormat.RunnerOwner, "runner-2-key", other, t));
        var workId = Guid.NewGuid();
        var claimed = new WorkResult(workId, proposalId, WorkStep.Execute, EvidenceScenario.RunnerId, WorkOutcome.Succeeded, 0, TimeSpan.Zero, "sha256:00", null, null, t);
        var completed = new WorkCompleted(proposalId, workId, WorkStep.Execute, EvidenceScenario.RunnerId, WorkOutcome.Succeeded,
            Dsse.Sign(claimed, WorkResult.PayloadType, other, "runner-2-key"), null, t);
        ledger.Append(new ScenarioEvent(completed, proposalId, EvidenceScenario.RunnerId, t));
        var bundle = EvidenceBundleBuilder.Build(proposalId, [.. ledger.Records.Where(r => r.ProposalId is not null)], ledger.Records, ledger.Head,
            new EvidenceSigner(_scenario.EvidenceKey, EvidenceScenario.EvidenceKeyId), t);

        var verification = EvidenceBundleVerifier.Verify(EvidenceBundleBuilder.Serialize(bundle));

        Assert.Equal($"result {EvidenceFormat.Id(workId)}: signed with 'runner-2-key', the key of runner 'runner-2', but the result is runner '{EvidenceScenario.RunnerId}''s",
            verification.Failure);
    }

    [Fact]
    public void A_key_swapped_in_the_key_list_does_not_match_its_record()
    {
        using var mallory = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var fleetIndex = _scenario.Bundle().Keys.ToList().FindIndex(k => k.KeyId == EvidenceScenario.FleetKeyId);

        var verification = Verify(b => b["keys"]![fleetIndex]!["publicKey"] = Convert.ToBase64String(mallory.ExportSubjectPublicKeyInfo()));

        Assert.Equal($"key '{EvidenceScenario.FleetKeyId}': publicKey differs from what record {_scenario.Bundle().Keys[fleetIndex].Record.Sequence} published", verification.Failure);
    }

    [Fact]
    public void A_record_of_another_proposal_spliced_in_is_refused()
    {
        var stranger = _scenario.Ledger.Records.First(r => r.ProposalId is not null && r.ProposalId != EvidenceFormat.Id(_scenario.ProposalId));

        var verification = Verify(b => b["records"]!.AsArray().Insert(1, JsonSerializer.SerializeToNode(stranger, EvidenceFormat.Json)));

        Assert.Equal(EvidenceBundleVerifier.ChainCheck, verification.FailedCheck);
        Assert.Contains($"record {stranger.Sequence} ({stranger.Kind}): belongs to proposal {stranger.ProposalId}", verification.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bundle_whose_checkpoint_is_signed_by_a_key_it_does_not_carry_is_refused()
    {
        using var mallory = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var bundle = _scenario.Bundle();
        var statement = JsonSerializer.Deserialize<CheckpointStatement>(bundle.Checkpoint.Statement, EvidenceFormat.Json)!;
        var forged = Dsse.Sign(statement, EvidenceFormat.CheckpointPayloadType, mallory, "evidence-mallory");

        var verification = Verify(b => b["checkpoint"]!["envelope"] = JsonSerializer.SerializeToNode(forged, EvidenceFormat.Json));

        Assert.Equal("checkpoint: signed by 'evidence-mallory', a key the bundle does not carry", verification.Failure);
    }

    [Fact]
    public void Not_json_is_a_shape_failure_with_the_position()
    {
        var verification = EvidenceBundleVerifier.Verify("{\"format\": "u8);

        Assert.Equal(EvidenceBundleVerifier.ShapeCheck, verification.FailedCheck);
        Assert.StartsWith("not a well-formed evidence bundle:", verification.Failure, StringComparison.Ordinal);
    }

    public void Dispose() => _scenario.Dispose();

    private BundleVerification Verify(Action<JsonObject> change)
    {
        var bundle = JsonNode.Parse(_scenario.BundleJson())!.AsObject();
        change(bundle);
        return EvidenceBundleVerifier.Verify(JsonSerializer.SerializeToUtf8Bytes(bundle));
    }
}
