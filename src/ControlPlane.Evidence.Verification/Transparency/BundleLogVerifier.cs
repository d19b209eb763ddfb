using System.Security.Cryptography;
using System.Text;
using ControlPlane.Contracts.Evidence;

namespace ControlPlane.Evidence.Verification.Transparency;

/// <summary>
/// Checks a bundle's log section: the C2SP checkpoint is signed by the evidence key that signed the bundle, and
/// every record and key record of the bundle (no more, no fewer) is proven a leaf of the tree at that checkpoint.
/// </summary>
public static class BundleLogVerifier
{
    /// <summary>The leaf data of a record: the UTF-8 text of its record hash, which commits to the whole record.</summary>
    public static byte[] LeafHash(string recordHash) => MerkleHash.Leaf(Encoding.UTF8.GetBytes(recordHash));

    /// <returns>null when the section verifies (then <paramref name="description"/> says what it proved), else the reason.</returns>
    public static string? Verify(EvidenceBundle bundle, ECDsa evidenceKey, out string description, IReadOnlyList<WitnessKey>? witnesses = null, int requiredWitnesses = 0)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        description = string.Empty;
        if (bundle.Log is not { } log || log.Checkpoint is null || log.Inclusions is null || log.Inclusions.Any(i => i is null || i.Proof is null))
        {
            return "the log section is missing or incomplete";
        }

        if (!SignedNote.TryParse(log.Checkpoint, out var note, out var failure) || !Checkpoint.TryParse(note!.Text, out var checkpoint, out failure))
        {
            return $"the log checkpoint is malformed: {failure}";
        }

        if (!note.VerifyEcdsa(checkpoint!.Origin, evidenceKey, out failure))
        {
            return $"the log checkpoint is not signed by the bundle's evidence key: {failure}";
        }

        var cosigners = (witnesses ?? []).Where(w => Cosignature.Verify(note, w, out _)).Select(w => w.Name).ToList();
        if (cosigners.Count < requiredWitnesses)
        {
            return $"the log checkpoint is cosigned by {cosigners.Count} of the {witnesses?.Count ?? 0} trusted witnesses, {requiredWitnesses} required" +
                (cosigners.Count > 0 ? $" (cosigned by {string.Join(", ", cosigners)})" : string.Empty);
        }

        var leaves = bundle.Records.Concat(bundle.Keys.Select(k => k.Record))
            .GroupBy(r => r.Sequence).ToDictionary(g => g.Key, g => g.First().RecordHash);
        var proven = new HashSet<long>();
        foreach (var inclusion in log.Inclusions)
        {
            if (!leaves.TryGetValue(inclusion.Sequence, out var recordHash))
            {
                return $"the log section proves record {inclusion.Sequence}, which the bundle does not hold";
            }

            if (!proven.Add(inclusion.Sequence))
            {
                return $"the log section proves record {inclusion.Sequence} twice";
            }

            if (!TryDecode(inclusion.Proof, out var proof))
            {
                return $"the inclusion proof of record {inclusion.Sequence} is not a list of base64 SHA-256 hashes";
            }

            if (!MerkleProofs.VerifyInclusion(inclusion.Sequence - 1, checkpoint.Size, LeafHash(recordHash), proof, checkpoint.RootHash))
            {
                return $"record {inclusion.Sequence} is not proven in the log checkpoint at size {checkpoint.Size}: its inclusion proof does not lead to the signed root";
            }
        }

        if (leaves.Keys.FirstOrDefault(s => !proven.Contains(s)) is var missing and > 0)
        {
            return $"record {missing} has no inclusion proof in the log section";
        }

        description = $"transparency log: {proven.Count} records proven in checkpoint '{checkpoint.Origin}' at size {checkpoint.Size} " +
            $"(root {Convert.ToBase64String(checkpoint.RootHash)}), signed by the evidence key" +
            (cosigners.Count > 0 ? $", cosigned by {string.Join(", ", cosigners)}" : string.Empty);
        return null;
    }

    private static bool TryDecode(IReadOnlyList<string> proof, out List<byte[]> hashes)
    {
        hashes = new List<byte[]>(proof.Count);
        foreach (var text in proof)
        {
            var hash = new byte[MerkleHash.Size + 3];
            if (text is null || !Convert.TryFromBase64String(text, hash, out var written) || written != MerkleHash.Size)
            {
                return false;
            }

            hashes.Add(hash[..MerkleHash.Size]);
        }

        return true;
    }
}
