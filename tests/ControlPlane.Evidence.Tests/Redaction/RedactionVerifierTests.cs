using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification;
using ControlPlane.Evidence.Verification.Redaction;

namespace ControlPlane.Evidence.Tests.Redaction;

/// <summary>Verifiable redaction offline: the commitment encoding, the rules for sensitive fields, reader and auditor bundles, tampering.</summary>
public sealed class RedactionVerifierTests : IDisposable
{
    private const string Comment = "leak confirmed in dashboards";
    private const string Output = "billing restarted: 3/3 replicas ready";

    private readonly RedactedLedger _ledger = new();

    [Fact]
    public void The_commitment_is_sha256_of_the_salt_then_the_canonical_json_of_the_value()
    {
        var salt = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var expected = "sha256:" + Convert.ToHexStringLower(SHA256.HashData([.. salt, .. Encoding.UTF8.GetBytes("\"café \\\"ok\\\"\"")]));

        Assert.Equal(expected, FieldCommitment.Compute(salt, JsonValue.Create("café \"ok\"")));
        Assert.NotEqual(expected, FieldCommitment.Compute(salt.Reverse().ToArray(), JsonValue.Create("café \"ok\"")));
        Assert.True(FieldCommitment.IsMarker(FieldCommitment.Marker(expected), out var read));
        Assert.Equal(expected, read);
        Assert.False(FieldCommitment.IsMarker(new JsonObject { ["commitment"] = "sha256:xyz" }, out _));
        Assert.False(FieldCommitment.IsMarker(JsonValue.Create(expected), out _));
    }

    [Theory]
    [InlineData("apiKey", true)]
    [InlineData("API_KEY", true)]
    [InlineData("db-password", true)]
    [InlineData("githubToken", true)]
    [InlineData("clientSecret", true)]
    [InlineData("aws.credentials", true)]
    [InlineData("keyboard", false)]
    [InlineData("monkey", false)]
    [InlineData("tokenizerModel", false)]
    [InlineData("replicas", false)]
    public void A_parameter_is_secret_when_one_of_its_words_says_so(string name, bool secret) =>
        Assert.Equal(secret, SensitiveFields.IsSecretName(name));

    [Fact]
    public void Appending_commits_the_comment_the_output_and_the_secret_parameters_with_a_fresh_salt_each()
    {
        var fields = _ledger.Fields;

        Assert.Equal(["/comment", "/signedResult/payload", "/signedResult/payload", "/parameters/apiToken", "/envelope/payload"], fields.Select(f => f.Path));
        Assert.Equal(fields.Count, fields.Select(f => Convert.ToBase64String(f.Salt)).Distinct().Count());
        var approval = _ledger.Records.Single(r => r.Kind == nameof(ApprovalRecorded));
        Assert.True(FieldCommitment.IsMarker(approval.Payload["comment"], out var commitment));
        Assert.Equal(commitment, FieldCommitment.Compute(fields[0].Salt, Encoding.UTF8.GetBytes($"\"{Comment}\"")));
        var request = _ledger.Records.Last(r => r.Kind == nameof(WorkRequested));
        Assert.Equal("rotate", request.Payload["parameters"]!["command"]!.GetValue<string>()); // not secret: stays in the clear
        Assert.All(_ledger.Records, r => Assert.Null(EvidenceChain.CheckHashes(r)));
    }

    [Fact]
    public void A_reader_bundle_holds_no_sensitive_value_and_verifies_with_its_commitments_intact()
    {
        var json = _ledger.BundleJson(disclose: false);
        var text = Encoding.UTF8.GetString(json);

        var result = EvidenceBundleVerifier.Verify(json, new BundleVerifyOptions(_ledger.Scenario.EvidenceKeyFingerprint));

        Assert.True(result.Ok, $"{result.FailedCheck}: {result.Failure}");
        Assert.DoesNotContain(Comment, text, StringComparison.Ordinal);
        Assert.DoesNotContain(RedactedLedger.Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(Output))[..12], text, StringComparison.Ordinal);
        Assert.Contains("redaction: 5 fields redacted (commitments intact)", result.Passed);
        Assert.Contains(result.Passed, p => p.StartsWith("results: 0 signed results verify", StringComparison.Ordinal) && p.Contains("2 with a redacted payload", StringComparison.Ordinal));
        Assert.Contains(result.Passed, p => p.StartsWith("work packages: 2 envelopes verify", StringComparison.Ordinal) && p.Contains("1 with a redacted payload", StringComparison.Ordinal));
    }

    [Fact]
    public void An_auditor_bundle_discloses_every_value_and_checks_each_against_its_commitment_and_signature()
    {
        var bundle = _ledger.Bundle(disclose: true);

        var result = EvidenceBundleVerifier.Verify(EvidenceBundleBuilder.Serialize(bundle), new BundleVerifyOptions(_ledger.Scenario.EvidenceKeyFingerprint));

        Assert.True(result.Ok, $"{result.FailedCheck}: {result.Failure}");
        Assert.Contains("redaction: 5 sensitive fields disclosed and checked", result.Passed);
        Assert.Contains(result.Passed, p => p.StartsWith("results: 2 signed results verify", StringComparison.Ordinal) && !p.Contains("redacted", StringComparison.Ordinal));
        Assert.Contains(result.Passed, p => p.StartsWith("work packages: 3 envelopes verify", StringComparison.Ordinal));
        Assert.Equal(Comment, bundle.Commitments!.Single(c => c.Path == "/comment").Value!.GetValue<string>());
    }

    [Fact]
    public void A_flipped_bit_in_a_disclosed_value_fails_naming_the_record_and_field()
    {
        var approval = _ledger.Records.Single(r => r.Kind == nameof(ApprovalRecorded));

        var result = Tamper(c => c.Path == "/comment", c => c with { Value = JsonValue.Create("leak confirmed in dashboardr") });

        Assert.Equal(EvidenceBundleVerifier.RedactionCheck, result.FailedCheck);
        Assert.Equal($"record {approval.Sequence} (ApprovalRecorded) field /comment: the disclosed value and salt do not match its commitment", result.Failure);
    }

    [Fact]
    public void A_changed_salt_fails_naming_the_record_and_field()
    {
        var request = _ledger.Records.Last(r => r.Kind == nameof(WorkRequested));

        var result = Tamper(c => c.Path == "/parameters/apiToken", c =>
        {
            var salt = Convert.FromBase64String(c.Salt!);
            salt[0] ^= 1;
            return c with { Salt = Convert.ToBase64String(salt) };
        });

        Assert.Equal($"record {request.Sequence} (WorkRequested) field /parameters/apiToken: the disclosed value and salt do not match its commitment", result.Failure);
    }

    [Fact]
    public void A_disclosed_payload_that_matches_its_commitment_but_not_the_signature_cannot_be_made()
    {
        // Replacing the listed commitment too is caught: it must equal the one the hashed record holds.
        var result = Tamper(c => c.Path == "/comment", c => c with
        {
            Value = JsonValue.Create("approved, no comment"),
            Commitment = FieldCommitment.Compute(Convert.FromBase64String(c.Salt!), JsonValue.Create("approved, no comment")),
        });

        Assert.EndsWith("field /comment: the listed commitment differs from the one the record holds", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_commitment_changed_in_the_record_breaks_its_payload_hash()
    {
        var json = JsonNode.Parse(_ledger.BundleJson(disclose: false))!;
        var approval = json["records"]!.AsArray().Single(r => r!["kind"]!.GetValue<string>() == nameof(ApprovalRecorded))!;
        approval["payload"]!["comment"] = FieldCommitment.Marker("sha256:" + new string('0', 64));

        var result = EvidenceBundleVerifier.Verify(Encoding.UTF8.GetBytes(json.ToJsonString()));

        Assert.Equal(EvidenceBundleVerifier.PayloadHashCheck, result.FailedCheck);
    }

    [Fact]
    public void A_commitment_left_out_of_the_list_or_a_half_disclosure_fails()
    {
        var dropped = Verify(_ledger.Bundle(disclose: false) is var b ? b with { Commitments = [.. b.Commitments!.Skip(1)] } : null!);
        var halfDisclosed = Tamper(c => c.Path == "/comment", c => c with { Salt = null });

        Assert.EndsWith("field /comment is committed, but the bundle's commitments section does not list it", dropped.Failure, StringComparison.Ordinal);
        Assert.EndsWith("field /comment: disclosed with a value but no salt", halfDisclosed.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bundle_from_before_redaction_verifies_and_says_it_holds_no_sensitive_fields()
    {
        var result = EvidenceBundleVerifier.Verify(_ledger.Scenario.BundleJson(), new BundleVerifyOptions(_ledger.Scenario.EvidenceKeyFingerprint));

        Assert.True(result.Ok, result.Failure);
        Assert.Contains("redaction: no sensitive fields", result.Passed);
    }

    public void Dispose() => _ledger.Dispose();

    private BundleVerification Tamper(Func<BundleCommitment, bool> which, Func<BundleCommitment, BundleCommitment> change)
    {
        var bundle = _ledger.Bundle(disclose: true);
        return Verify(bundle with { Commitments = [.. bundle.Commitments!.Select(c => which(c) ? change(c) : c)] });
    }

    private static BundleVerification Verify(EvidenceBundle bundle) => EvidenceBundleVerifier.Verify(EvidenceBundleBuilder.Serialize(bundle));
}
