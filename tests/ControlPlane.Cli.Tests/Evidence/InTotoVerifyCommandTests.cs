using System.Security.Cryptography;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification.InToto;

namespace ControlPlane.Cli.Tests.Evidence;

/// <summary>`controlplane evidence verify --in-toto` and `export` against attestation bundles signed here with a key made per test.</summary>
public sealed class InTotoVerifyCommandTests : IDisposable
{
    private const string KeyId = "evidence-test";
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly string _directory = Directory.CreateTempSubdirectory("cp-intoto-cli-").FullName;
    private readonly Guid _proposalId = Guid.NewGuid();

    [Fact]
    public async Task An_exported_file_verifies_with_one_line_per_statement_in_either_argument_order()
    {
        var (file, keys) = await WriteAsync(Export());

        var (exit, output) = await CliRun.EvidenceAsync("verify", "--in-toto", file, "--keys", keys, "--content-hash", "sha256:" + new string('a', 64));
        var (after, _) = await CliRun.EvidenceAsync("verify", file, "--in-toto", "--keys", keys);

        Assert.True(exit == 0, output);
        Assert.Equal(0, after);
        Assert.Contains("ok   line 1  policy-decision/v1  record 5 (PolicyDecided, leaf 4 of test.example/evidence): allow by policy 2026.12.1 (rules: staging-restarts)", output, StringComparison.Ordinal);
        Assert.Contains("ok   line 2  runner-result/v1  record 9 (WorkCompleted, leaf 8 of test.example/evidence): execute succeeded (exit 0) by runner-1", output, StringComparison.Ordinal);
        Assert.Contains($"2 statement(s) verify: subject proposal/{_proposalId:D} sha256:{new string('a', 64)}, signed by evidence key '{KeyId}'.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_flipped_byte_in_the_file_fails_with_the_line()
    {
        var export = Export();
        var bytes = Encoding.UTF8.GetBytes(export);
        var payload = export.IndexOf("\"payload\":\"", export.IndexOf('\n', StringComparison.Ordinal), StringComparison.Ordinal) + "\"payload\":\"".Length;
        bytes[payload + 40] = bytes[payload + 40] == (byte)'A' ? (byte)'B' : (byte)'A';
        var (file, keys) = await WriteAsync(Encoding.UTF8.GetString(bytes));

        var (exit, output) = await CliRun.EvidenceAsync("verify", "--in-toto", file, "--keys", keys);

        Assert.Equal(1, exit);
        Assert.Contains("ok   line 1", output, StringComparison.Ordinal);
        Assert.Contains($"FAIL line 2: signature by '{KeyId}' does not verify", output, StringComparison.Ordinal);
        Assert.Contains("In-toto attestations do not verify.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_subject_other_than_the_given_content_hash_fails()
    {
        var (file, keys) = await WriteAsync(Export());

        var (exit, output) = await CliRun.EvidenceAsync("verify", "--in-toto", file, "--keys", keys, "--content-hash", "sha256:" + new string('f', 64));

        Assert.Equal(1, exit);
        Assert.Contains($"FAIL line 1: subject digest sha256:{new string('a', 64)} is not the proposal's content hash sha256:{new string('f', 64)}", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreadable_keys_exit_2_and_export_needs_a_format()
    {
        var (file, _) = await WriteAsync(Export());

        var (unreadable, reason) = await CliRun.EvidenceAsync("verify", "--in-toto", file, "--keys", Path.Combine(_directory, "missing.json"));
        var (noFormat, message) = await CliRun.EvidenceAsync("export", _proposalId.ToString(), "--token", "t");

        Assert.Equal(2, unreadable);
        Assert.Contains("cannot read the input", reason, StringComparison.Ordinal);
        Assert.Equal(2, noFormat);
        Assert.Contains("Say the format: --in-toto", message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _key.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Two statements about the proposal, as evidence signs them: a decision and a runner result.</summary>
    private string Export()
    {
        InTotoSubject[] subject = [new($"proposal/{_proposalId:D}", new Dictionary<string, string> { ["sha256"] = new string('a', 64) })];
        var decision = new PolicyDecisionAttestation("allow", ["staging restart"], ["staging-restarts"], new PolicyBundleReference("sha256:" + new string('c', 64), "2026.12.1"),
            3, [], [], "2026-12-04T10:00:00.000000Z", Attested(5, nameof(PolicyDecided)));
        var result = new RunnerResultAttestation(Guid.NewGuid().ToString("D"), "execute", "succeeded", "2026-12-04T10:01:00.000000Z", Attested(9, nameof(WorkCompleted)),
            "runner-1", 0, "PT3S", "sha256:" + new string('d', 64), new SignedResultReference(WorkResult.PayloadType, "runner-1-key", "sha256:" + new string('e', 64)));
        return string.Join("\n", new[]
        {
            new InTotoStatement(InTotoFormat.StatementType, subject, InTotoFormat.PolicyDecisionPredicate, decision),
            new InTotoStatement(InTotoFormat.StatementType, subject, InTotoFormat.RunnerResultPredicate, result),
        }.Select(s => DsseJsonLine.Write(Dsse.Sign(s, InTotoFormat.PayloadType, _key, KeyId)))) + "\n";
    }

    private static AttestedRecord Attested(long sequence, string kind) =>
        new("test.example/evidence", sequence, sequence - 1, Convert.ToBase64String(SHA256.HashData(BitConverter.GetBytes(sequence))),
            Guid.NewGuid().ToString("D"), kind, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(kind))));

    private async Task<(string File, string Keys)> WriteAsync(string export)
    {
        var file = Path.Combine(_directory, $"{Guid.NewGuid():N}.intoto.jsonl");
        await File.WriteAllTextAsync(file, export);
        var spki = _key.ExportSubjectPublicKeyInfo();
        var keys = Path.Combine(_directory, "keys.json");
        await File.WriteAllTextAsync(keys, System.Text.Json.JsonSerializer.Serialize(
            new EvidenceKeySet([new EvidencePublicKey(KeyId, "ES256", Convert.ToBase64String(spki), EvidenceFormat.KeyFingerprint(spki), "2026-12-04T09:00:00.000000Z")]),
            EvidenceFormat.Json));
        return (file, keys);
    }
}
