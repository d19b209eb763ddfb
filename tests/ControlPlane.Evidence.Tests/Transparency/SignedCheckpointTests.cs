using System.Security.Cryptography;
using ControlPlane.Evidence.Verification.Transparency;

namespace ControlPlane.Evidence.Tests.Transparency;

public sealed class SignedCheckpointTests
{
    private const string Origin = "controlplane.example/evidence";

    [Fact]
    public void A_signed_checkpoint_round_trips_and_verifies()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var checkpoint = new Checkpoint(Origin, 20852163, SHA256.HashData("root"u8));
        var note = SignedNote.SignEcdsa(checkpoint.Text(), Origin, key).ToString();

        Assert.StartsWith($"{Origin}\n20852163\n{Convert.ToBase64String(checkpoint.RootHash)}\n\n\u2014 {Origin} ", note, StringComparison.Ordinal);
        Assert.True(SignedNote.TryParse(note, out var parsed, out var failure), failure);
        Assert.True(parsed!.VerifyEcdsa(Origin, key, out failure), failure);
        Assert.True(Checkpoint.TryParse(parsed.Text, out var read, out failure), failure);
        Assert.Equal(checkpoint.Size, read!.Size);
        Assert.Equal(checkpoint.RootHash, read.RootHash);
        Assert.Equal(Origin, read.Origin);
    }

    [Fact]
    public void The_key_id_is_the_first_four_bytes_of_the_sha256_of_the_public_key_info()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var spki = key.ExportSubjectPublicKeyInfo();
        var hash = SHA256.HashData(spki);
        var expected = ((uint)hash[0] << 24) | ((uint)hash[1] << 16) | ((uint)hash[2] << 8) | hash[3];
        Assert.Equal(expected, SignedNote.EcdsaKeyId(spki));

        var note = SignedNote.SignEcdsa("text\n", Origin, key).ToString();
        var encoded = note.Split(' ')[^1].TrimEnd('\n');
        Assert.Equal(hash[..4], Convert.FromBase64String(encoded)[..4]);
    }

    [Fact]
    public void A_changed_text_another_key_or_another_name_does_not_verify()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var note = SignedNote.SignEcdsa(new Checkpoint(Origin, 10, new byte[32]).Text(), Origin, key).ToString();

        var grown = note.Replace("\n10\n", "\n11\n", StringComparison.Ordinal);
        Assert.True(SignedNote.TryParse(grown, out var parsed, out _));
        Assert.False(parsed!.VerifyEcdsa(Origin, key, out var failure));
        Assert.Contains("does not verify", failure, StringComparison.Ordinal);

        Assert.True(SignedNote.TryParse(note, out parsed, out _));
        Assert.False(parsed!.VerifyEcdsa(Origin, other, out failure));
        Assert.Contains("no signature", failure, StringComparison.Ordinal);
        Assert.False(parsed.VerifyEcdsa("someone.else/log", key, out _));
    }

    [Fact]
    public void Signatures_by_unknown_keys_are_ignored()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var witness = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var text = new Checkpoint(Origin, 3, new byte[32]).Text();
        var note = SignedNote.SignEcdsa(text, Origin, key).WithSignature(SignedNote.SignEcdsa(text, "witness.example/w1", witness).Signatures[0]);

        Assert.True(SignedNote.TryParse(note.ToString(), out var parsed, out _));
        Assert.Equal(2, parsed!.Signatures.Count);
        Assert.True(parsed.VerifyEcdsa(Origin, key, out _));
        Assert.True(parsed.VerifyEcdsa("witness.example/w1", witness, out _));
    }

    [Theory]
    [InlineData("origin\n1\nAAAA\n", "signature lines")]
    [InlineData("origin\n1\n\n\u2014 name\n", "not a signature line")]
    [InlineData("origin\n1\n\n\u2014 name AAAA\n", "not a signature line")]
    [InlineData("origin\n1\n\n- name AAAAAAAA\n", "not a signature line")]
    [InlineData("origin\n1\n\n\u2014 na+me AAAAAAAA\n", "not a signature line")]
    [InlineData("ori\tgin\n1\n\n\u2014 name AAAAAAAA\n", "control characters")]
    [InlineData("origin\n1\n\n", "signature lines")]
    public void A_malformed_note_is_refused_with_the_reason(string note, string reason)
    {
        Assert.False(SignedNote.TryParse(note, out _, out var failure));
        Assert.Contains(reason, failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("origin\n10\n", "three non-empty lines")]
    [InlineData("origin\n10\nAAAA\n", "32 bytes")]
    [InlineData("origin\n010\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "leading zeros")]
    [InlineData("origin\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "decimal")]
    [InlineData("origin\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "three non-empty lines")]
    [InlineData("origin\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nextension\n", "three non-empty lines")]
    [InlineData("ori gin\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "no spaces")]
    public void A_malformed_checkpoint_is_refused_with_the_reason(string text, string reason)
    {
        Assert.False(Checkpoint.TryParse(text, out _, out var failure));
        Assert.Contains(reason, failure, StringComparison.Ordinal);
    }

    [Fact]
    public void The_empty_tree_has_size_zero_and_extension_lines_are_kept_out_of_the_fields()
    {
        Assert.True(Checkpoint.TryParse("o\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", out var empty, out _));
        Assert.Equal(0, empty!.Size);
        Assert.True(Checkpoint.TryParse("o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next\n", out var extended, out _));
        Assert.Equal(5, extended!.Size);
    }
}
