using System.Globalization;
using System.Security.Cryptography;

namespace ControlPlane.Evidence.Verification.Transparency;

/// <summary>What a witness remembers of one log: the latest checkpoint it cosigned.</summary>
public sealed record WitnessedCheckpoint(string Origin, long Size, byte[] RootHash);

/// <summary>The answer to add-checkpoint (c2sp.org/tlog-witness): status, body, content type, and the state to keep when it cosigned.</summary>
public sealed record WitnessAnswer(int Status, string Body, string ContentType, WitnessedCheckpoint? Cosigned)
{
    public static WitnessAnswer Refuse(int status, string reason) => new(status, reason + "\n", "text/plain; charset=utf-8", null);
}

/// <summary>
/// The witness's decision on an add-checkpoint request, pure: it cosigns only a checkpoint signed by a log it
/// trusts that extends the last one it cosigned for that log, proven by an RFC 9162 consistency proof. A log that
/// rewrote its history cannot produce that proof, so the witness refuses it and the fork is visible.
/// </summary>
public static class CheckpointWitness
{
    public const int MaxProofLines = 63;
    public const string SizeContentType = "text/x.tlog.size";

    /// <param name="logKeys">The logs this witness follows: origin → the log's ECDSA public key.</param>
    /// <param name="latest">The checkpoint last cosigned for an origin, if any.</param>
    /// <param name="cosign">Signs the checkpoint text with the witness key.</param>
    public static WitnessAnswer AddCheckpoint(string body, IReadOnlyDictionary<string, ECDsa> logKeys, Func<string, WitnessedCheckpoint?> latest,
        Func<string, NoteSignature> cosign)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(logKeys);
        ArgumentNullException.ThrowIfNull(latest);
        ArgumentNullException.ThrowIfNull(cosign);
        if (Parse(body) is not { } request)
        {
            return WitnessAnswer.Refuse(400, "the body is an 'old <size>' line, up to 63 base64 proof lines, an empty line and a checkpoint");
        }

        if (!SignedNote.TryParse(request.Note, out var note, out var failure) || !Checkpoint.TryParse(note!.Text, out var checkpoint, out failure))
        {
            return WitnessAnswer.Refuse(400, $"the checkpoint is malformed: {failure}");
        }

        if (!logKeys.TryGetValue(checkpoint!.Origin, out var logKey))
        {
            return WitnessAnswer.Refuse(404, $"this witness does not follow the log '{checkpoint.Origin}'");
        }

        if (!note.VerifyEcdsa(checkpoint.Origin, logKey, out failure))
        {
            return WitnessAnswer.Refuse(403, $"the checkpoint is not signed by the log's key: {failure}");
        }

        if (request.OldSize > checkpoint.Size)
        {
            return WitnessAnswer.Refuse(400, $"old size {request.OldSize} is larger than the checkpoint's size {checkpoint.Size}");
        }

        var known = latest(checkpoint.Origin);
        var knownSize = known?.Size ?? 0;
        if (request.OldSize != knownSize)
        {
            return new WitnessAnswer(409, knownSize.ToString(CultureInfo.InvariantCulture) + "\n", SizeContentType, null);
        }

        if (known is not null && known.Size == checkpoint.Size && !known.RootHash.AsSpan().SequenceEqual(checkpoint.RootHash))
        {
            return WitnessAnswer.Refuse(409, $"a different root for size {checkpoint.Size} was cosigned before: the log forked");
        }

        var consistent = known is null
            ? request.Proof.Count == 0
            : MerkleProofs.VerifyConsistency(known.Size, checkpoint.Size, known.RootHash, checkpoint.RootHash, request.Proof);
        if (!consistent)
        {
            return WitnessAnswer.Refuse(422, $"the consistency proof from size {knownSize} to {checkpoint.Size} does not verify: the log does not extend what this witness cosigned");
        }

        var line = cosign(note.Text).Line();
        return new WitnessAnswer(200, line, "text/plain; charset=utf-8", new WitnessedCheckpoint(checkpoint.Origin, checkpoint.Size, checkpoint.RootHash));
    }

    /// <summary>The request body a log sends: old size, proof lines, an empty line, the signed checkpoint.</summary>
    public static string Request(long oldSize, IEnumerable<byte[]> proof, string signedCheckpoint) =>
        $"old {oldSize.ToString(CultureInfo.InvariantCulture)}\n" + string.Concat(proof.Select(h => Convert.ToBase64String(h) + "\n")) + "\n" + signedCheckpoint;

    private sealed record Parsed(long OldSize, List<byte[]> Proof, string Note);

    private static Parsed? Parse(string body)
    {
        var end = body.IndexOf("\n\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return null;
        }

        var lines = body[..end].Split('\n');
        var sizeText = lines[0].StartsWith("old ", StringComparison.Ordinal) ? lines[0][4..] : null;
        if (sizeText is null || !long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var oldSize)
            || (sizeText.Length > 1 && sizeText[0] == '0') || lines.Length - 1 > MaxProofLines)
        {
            return null;
        }

        var proof = new List<byte[]>();
        foreach (var line in lines.Skip(1))
        {
            var hash = new byte[MerkleHash.Size + 3];
            if (!Convert.TryFromBase64String(line, hash, out var written) || written != MerkleHash.Size)
            {
                return null;
            }

            proof.Add(hash[..MerkleHash.Size]);
        }

        return new Parsed(oldSize, proof, body[(end + 2)..]);
    }
}
