using System.Security.Cryptography;
using ControlPlane.Evidence.Verification.Transparency;

namespace ControlPlane.Evidence.Tests.Transparency;

/// <summary>The witness's decision (c2sp.org/tlog-witness) and its cosignatures (c2sp.org/tlog-cosignature), pure.</summary>
public sealed class WitnessTests : IDisposable
{
    private const string Origin = "test.controlplane/evidence";
    private const string WitnessName = "witness.test/w1";
    private readonly ECDsa _logKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly NSec.Cryptography.Key _witnessKey = Cosignature.CreateKey();
    private readonly MerkleTree _log = MerkleTreeTests.Tree(MerkleTreeTests.Leaves(40, seed: 21));
    private WitnessedCheckpoint? _state;

    [Fact]
    public void The_witness_cosigns_a_first_checkpoint_then_only_checkpoints_that_extend_it()
    {
        var first = Submit(0, [], Signed(10));
        Assert.Equal(200, first.Status);
        Assert.Equal(10, _state!.Size);
        AssertCosigns(Signed(10), first.Body);

        var grown = Submit(10, _log.ConsistencyProof(10, 25), Signed(25));
        Assert.Equal(200, grown.Status);
        Assert.Equal(25, _state.Size);

        var same = Submit(25, [], Signed(25));
        Assert.Equal(200, same.Status);
    }

    [Fact]
    public void A_rewritten_log_is_refused_because_it_cannot_prove_it_extends_what_was_cosigned()
    {
        Assert.Equal(200, Submit(0, [], Signed(20)).Status);

        // The log rewrites record 5 and signs its new history with its real key.
        var leaves = MerkleTreeTests.Leaves(40, seed: 21);
        leaves[5] = [.. leaves[5], 0x01];
        var rewritten = MerkleTreeTests.Tree(leaves);
        var forged = Sign(rewritten.RootHash(30), 30);

        var answer = Submit(20, rewritten.ConsistencyProof(20, 30), forged);
        Assert.Equal(422, answer.Status);
        Assert.Contains("does not extend", answer.Body, StringComparison.Ordinal);
        Assert.Equal(20, _state!.Size);

        // Nor can it present another root for the size the witness already holds.
        var fork = Submit(20, [], Sign(rewritten.RootHash(20), 20));
        Assert.Equal(409, fork.Status);
        Assert.Contains("forked", fork.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_requests_get_the_status_the_protocol_prescribes()
    {
        Assert.Equal(200, Submit(0, [], Signed(10)).Status);

        var stale = Submit(0, [], Signed(12));
        Assert.Equal(409, stale.Status);
        Assert.Equal(CheckpointWitness.SizeContentType, stale.ContentType);
        Assert.Equal("10\n", stale.Body);

        Assert.Equal(400, Submit(20, [], Signed(12)).Status);
        Assert.Equal(400, CheckpointWitness.AddCheckpoint("old 01\n\n" + Signed(12), Logs(), o => _state, Cosign).Status);
        Assert.Equal(400, CheckpointWitness.AddCheckpoint("nonsense", Logs(), o => _state, Cosign).Status);

        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var unsigned = SignedNote.SignEcdsa(new Checkpoint(Origin, 12, _log.RootHash(12)).Text(), Origin, stranger).ToString();
        Assert.Equal(403, Submit(10, _log.ConsistencyProof(10, 12), unsigned).Status);

        var otherLog = SignedNote.SignEcdsa(new Checkpoint("other.example/log", 12, _log.RootHash(12)).Text(), "other.example/log", _logKey).ToString();
        Assert.Equal(404, Submit(10, [], otherLog).Status);

        var badProof = _log.ConsistencyProof(10, 12).Select(h => (byte[])h.Clone()).ToList();
        badProof[0][0] ^= 1;
        Assert.Equal(422, Submit(10, badProof, Signed(12)).Status);
        Assert.Equal(10, _state!.Size);
    }

    [Fact]
    public void A_cosignature_has_the_documented_key_id_timestamp_and_message()
    {
        var text = new Checkpoint(Origin, 7, _log.RootHash(7)).Text();
        var at = DateTimeOffset.FromUnixTimeSeconds(1_764_800_000);
        var signature = Cosignature.Sign(text, WitnessName, _witnessKey, at);

        var publicKey = Cosignature.PublicKeyOf(_witnessKey);
        var expectedId = SHA256.HashData([.. System.Text.Encoding.UTF8.GetBytes(WitnessName), 0x0A, 0x04, .. publicKey]);
        Assert.Equal(((uint)expectedId[0] << 24) | ((uint)expectedId[1] << 16) | ((uint)expectedId[2] << 8) | expectedId[3], signature.KeyId);
        Assert.Equal(72, signature.Signature.Length);
        Assert.Equal(1_764_800_000L, System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(signature.Signature));
        Assert.Equal("cosignature/v1\ntime 1764800000\n" + text, System.Text.Encoding.UTF8.GetString(Cosignature.Message(text, 1_764_800_000)));

        var note = new SignedNote(text, [signature]);
        Assert.True(Cosignature.Verify(note, new WitnessKey(WitnessName, publicKey), out var when));
        Assert.Equal(at, when);
        Assert.False(Cosignature.Verify(note with { Text = new Checkpoint(Origin, 8, _log.RootHash(8)).Text() }, new WitnessKey(WitnessName, publicKey), out _));
        using var other = Cosignature.CreateKey();
        Assert.False(Cosignature.Verify(note, new WitnessKey(WitnessName, Cosignature.PublicKeyOf(other)), out _));
        Assert.True(WitnessKey.TryParse(new WitnessKey(WitnessName, publicKey).ToString(), out var parsed));
        Assert.Equal(publicKey, parsed!.PublicKey);
    }

    public void Dispose()
    {
        _logKey.Dispose();
        _witnessKey.Dispose();
    }

    private WitnessAnswer Submit(long oldSize, IEnumerable<byte[]> proof, string checkpoint)
    {
        var answer = CheckpointWitness.AddCheckpoint(CheckpointWitness.Request(oldSize, proof, checkpoint), Logs(), _ => _state, Cosign);
        if (answer.Cosigned is { } cosigned)
        {
            _state = cosigned;
        }

        return answer;
    }

    private void AssertCosigns(string checkpoint, string body)
    {
        Assert.True(SignedNote.TryParse(checkpoint + body, out var note, out var failure), failure);
        Assert.True(Cosignature.Verify(note!, new WitnessKey(WitnessName, Cosignature.PublicKeyOf(_witnessKey)), out _));
        Assert.True(note!.VerifyEcdsa(Origin, _logKey, out _), "the log's own signature is kept");
    }

    private Dictionary<string, ECDsa> Logs() => new() { [Origin] = _logKey };

    private NoteSignature Cosign(string text) => Cosignature.Sign(text, WitnessName, _witnessKey, DateTimeOffset.UtcNow);

    private string Signed(long size) => Sign(_log.RootHash(size), size);

    private string Sign(byte[] root, long size) => SignedNote.SignEcdsa(new Checkpoint(Origin, size, root).Text(), Origin, _logKey).ToString();
}
