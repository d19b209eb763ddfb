using System.Globalization;

namespace ControlPlane.Evidence.Verification.Transparency;

/// <summary>
/// The text of a C2SP checkpoint (c2sp.org/tlog-checkpoint): the log's origin, its size and the base64 RFC 9162
/// root hash at that size, one per line. Evidence adds no extension lines (monitors cannot audit them).
/// </summary>
public sealed record Checkpoint(string Origin, long Size, byte[] RootHash)
{
    public string Text() => $"{Origin}\n{Size.ToString(CultureInfo.InvariantCulture)}\n{Convert.ToBase64String(RootHash)}\n";

    public static bool TryParse(string text, out Checkpoint? checkpoint, out string? failure)
    {
        checkpoint = null;
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.EndsWith('\n') ? text[..^1].Split('\n') : null;
        if (lines is null || lines.Length < 3 || lines.Any(l => l.Length == 0))
        {
            failure = "a checkpoint is at least three non-empty lines (origin, size, root hash), each ending in a newline";
            return false;
        }

        if (lines[0].Any(char.IsWhiteSpace))
        {
            failure = "the checkpoint origin holds no spaces";
            return false;
        }

        var sizeText = lines[1];
        if (!long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || (sizeText.Length > 1 && sizeText[0] == '0'))
        {
            failure = $"the checkpoint size '{sizeText}' is not a decimal number without leading zeros";
            return false;
        }

        var root = new byte[MerkleHash.Size + 3];
        if (!Convert.TryFromBase64String(lines[2], root, out var written) || written != MerkleHash.Size)
        {
            failure = "the checkpoint root hash is not the base64 of 32 bytes";
            return false;
        }

        checkpoint = new Checkpoint(lines[0], size, root[..MerkleHash.Size]);
        failure = null;
        return true;
    }
}
