using System.Security.Cryptography;
using ControlPlane.Contracts;
using ControlPlane.Runner.Actions;

namespace ControlPlane.Runner.Tests.Unit;

/// <summary>The seal fleet puts a package credential in, opened as the runner opens it; and the capture that keeps it out of results.</summary>
public sealed class CredentialSealTests
{
    private const string Token = "eyJhbGciOiJFUzI1NiJ9.eyJhdWQiOlsiYmlsbGluZyJdfQ.c2lnbmF0dXJlLW9mLWZsZWV0";
    private static readonly Guid WorkId = Guid.NewGuid();

    [Fact]
    public void What_fleet_seals_to_the_runners_key_opens_with_it_for_that_package_and_runner()
    {
        using var runner = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

        var sealedCredential = CredentialSeal.Seal(Token, PublicKey(runner), WorkId, "runner-a");
        var opened = CredentialSeal.Open(sealedCredential, runner, WorkId, "runner-a", out var failure);

        Assert.Equal(Token, opened);
        Assert.Null(failure);
        Assert.Equal(CredentialSeal.Algorithm, sealedCredential.Algorithm);
        Assert.DoesNotContain("eyJ", sealedCredential.Ciphertext, StringComparison.Ordinal);
        // A fresh ephemeral key and nonce each time: sealing the same token twice gives unrelated ciphertexts.
        Assert.NotEqual(sealedCredential.Ciphertext, CredentialSeal.Seal(Token, PublicKey(runner), WorkId, "runner-a").Ciphertext);
    }

    [Fact]
    public void Another_runners_key_does_not_open_it()
    {
        using var runner = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var sealedCredential = CredentialSeal.Seal(Token, PublicKey(runner), WorkId, "runner-a");

        Assert.Null(CredentialSeal.Open(sealedCredential, other, WorkId, "runner-a", out var failure));
        Assert.Contains("does not open", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Tampered_ciphertext_nonce_or_ephemeral_key_and_another_package_or_runner_do_not_open()
    {
        using var runner = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var stranger = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var sealedCredential = CredentialSeal.Seal(Token, PublicKey(runner), WorkId, "runner-a");
        var ciphertext = Convert.FromBase64String(sealedCredential.Ciphertext);
        ciphertext[3] ^= 0x01;
        var nonce = Convert.FromBase64String(sealedCredential.Nonce);
        nonce[0] ^= 0x80;

        SealedCredential[] tampered =
        [
            sealedCredential with { Ciphertext = Convert.ToBase64String(ciphertext) },
            sealedCredential with { Nonce = Convert.ToBase64String(nonce) },
            sealedCredential with { EphemeralKey = PublicKey(stranger) },
            sealedCredential with { Algorithm = "ECDH-ES+A128KW" },
            sealedCredential with { Ciphertext = "not base64!" },
        ];

        Assert.All(tampered, t => Assert.Null(CredentialSeal.Open(t, runner, WorkId, "runner-a", out _)));
        Assert.Null(CredentialSeal.Open(sealedCredential, runner, Guid.NewGuid(), "runner-a", out var otherPackage));
        Assert.Null(CredentialSeal.Open(sealedCredential, runner, WorkId, "runner-b", out var otherRunner));
        Assert.Contains("another package or runner", otherPackage, StringComparison.Ordinal);
        Assert.Contains("another package or runner", otherRunner, StringComparison.Ordinal);
    }

    [Fact]
    public void The_capture_cuts_the_credential_from_the_excerpt_and_keeps_the_digest_that_of_the_excerpt()
    {
        using var capture = new OutputCapture(redact: Token);
        capture.Append(System.Text.Encoding.UTF8.GetBytes($"using {Token} for billing\n"));

        var excerpt = capture.Excerpt();

        Assert.Equal($"using {OutputCapture.Redacted} for billing\n", excerpt);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(excerpt))), capture.Digest());
    }

    [Fact]
    public void A_cut_falling_inside_the_credential_leaves_none_of_it_in_the_excerpt()
    {
        using var capture = new OutputCapture(limit: 40, redact: Token);
        capture.Append(System.Text.Encoding.UTF8.GetBytes($"token={Token}\n"));

        var excerpt = capture.Excerpt();

        Assert.StartsWith("token=" + OutputCapture.Redacted, excerpt, StringComparison.Ordinal);
        Assert.DoesNotContain(Token[..20], excerpt, StringComparison.Ordinal);
        Assert.Contains("[output truncated:", excerpt, StringComparison.Ordinal);
    }

    [Fact]
    public void The_command_gets_the_credential_in_its_environment_and_never_on_its_command_line()
    {
        var spec = new CommandSpec { Executable = "/usr/bin/env", Arguments = ["-0"] };
        spec.Environment[CommandPlan.CredentialVariable] = "configured values cannot shadow it";

        var (start, refusal) = CommandPlan.Build(spec, "print-env", Packages.New(), "runner-a", "/tmp/ws", "/tmp", new Dictionary<string, string?>(), Token);

        Assert.Null(refusal);
        Assert.Equal(Token, start!.Environment[CommandPlan.CredentialVariable]);
        Assert.DoesNotContain(start.ArgumentList, a => a.Contains(Token, StringComparison.Ordinal));
        Assert.False(CommandPlan.Build(spec, "print-env", Packages.New(), "runner-a", "/tmp/ws", "/tmp", new Dictionary<string, string?>()).Start!
            .Environment[CommandPlan.CredentialVariable]!.StartsWith("eyJ", StringComparison.Ordinal));
    }

    private static string PublicKey(ECDiffieHellman key) => Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());
}
