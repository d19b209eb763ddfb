using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.Evidence.Verification.Transparency;

/// <summary>One signature line of a note: key name, 32-bit key id and the signature bytes after it.</summary>
public sealed record NoteSignature(string KeyName, uint KeyId, byte[] Signature)
{
    public string Line() => $"\u2014 {KeyName} {Convert.ToBase64String([.. KeyIdBytes(KeyId), .. Signature])}\n";

    private static byte[] KeyIdBytes(uint id)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, id);
        return bytes;
    }
}

/// <summary>
/// A C2SP signed note (c2sp.org/signed-note): a text ending in a newline, a blank line, then one line per
/// signature, "— name base64(keyid || signature)". Evidence signs with ECDSA P-256 (signature type 0x02, the
/// shape transparency-dev/witness uses: key id = SHA-256 of the DER SubjectPublicKeyInfo, first four bytes; an
/// ASN.1 DER signature over SHA-256 of the text), the key the plane already uses for its bundles.
/// </summary>
public sealed record SignedNote(string Text, IReadOnlyList<NoteSignature> Signatures)
{
    public const int MaxSignatures = 64;
    private const string Separator = "\n\n";

    public override string ToString() => Text + "\n" + string.Concat(Signatures.Select(s => s.Line()));

    public SignedNote WithSignature(NoteSignature signature) => this with { Signatures = [.. Signatures, signature] };

    public static SignedNote SignEcdsa(string text, string keyName, ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        CheckText(text);
        CheckKeyName(keyName);
        var signature = key.SignData(Encoding.UTF8.GetBytes(text), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new SignedNote(text, [new NoteSignature(keyName, EcdsaKeyId(key.ExportSubjectPublicKeyInfo()), signature)]);
    }

    /// <summary>The type 0x02 key id: the first four bytes, big-endian, of SHA-256 over the DER SubjectPublicKeyInfo.</summary>
    public static uint EcdsaKeyId(ReadOnlySpan<byte> subjectPublicKeyInfo) =>
        BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(subjectPublicKeyInfo));

    /// <summary>Whether a signature by <paramref name="keyName"/> with this public key is on the note and verifies.
    /// Signatures by other keys are ignored, as the spec requires; a known key whose signature fails refuses the note.</summary>
    public bool VerifyEcdsa(string keyName, ECDsa publicKey, out string? failure)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        var keyId = EcdsaKeyId(publicKey.ExportSubjectPublicKeyInfo());
        var matching = Signatures.Where(s => s.KeyName == keyName && s.KeyId == keyId).ToList();
        if (matching.Count == 0)
        {
            failure = $"the note carries no signature by '{keyName}' with key id {keyId:x8}";
            return false;
        }

        var text = Encoding.UTF8.GetBytes(Text);
        if (matching.Any(s => !publicKey.VerifyData(text, s.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)))
        {
            failure = $"the signature by '{keyName}' (key id {keyId:x8}) does not verify over the note text";
            return false;
        }

        failure = null;
        return true;
    }

    public static bool TryParse(string note, out SignedNote? parsed, out string? failure)
    {
        parsed = null;
        ArgumentNullException.ThrowIfNull(note);
        if (note.Any(c => char.IsControl(c) && c != '\n'))
        {
            failure = "a signed note holds no control characters but newlines";
            return false;
        }

        var split = note.LastIndexOf(Separator, StringComparison.Ordinal);
        if (split < 0 || split + Separator.Length >= note.Length || !note.EndsWith('\n'))
        {
            failure = "a signed note is a text, a blank line and signature lines, each ending in a newline";
            return false;
        }

        var text = note[..(split + 1)];
        var lines = note[(split + 2)..^1].Split('\n');
        if (lines.Length > MaxSignatures)
        {
            failure = $"a signed note carries at most {MaxSignatures} signatures here, not {lines.Length}";
            return false;
        }

        var signatures = new List<NoteSignature>();
        foreach (var line in lines)
        {
            if (ParseSignature(line) is not { } signature)
            {
                failure = $"'{Shorten(line)}' is not a signature line ('— name base64')";
                return false;
            }

            signatures.Add(signature);
        }

        parsed = new SignedNote(text, signatures);
        failure = null;
        return true;
    }

    internal static void CheckText(string text)
    {
        if (string.IsNullOrEmpty(text) || !text.EndsWith('\n') || text.Any(c => char.IsControl(c) && c != '\n'))
        {
            throw new ArgumentException("A note text is non-empty, ends in a newline and holds no other control characters.", nameof(text));
        }
    }

    private static void CheckKeyName(string keyName)
    {
        if (string.IsNullOrEmpty(keyName) || keyName.Any(c => char.IsWhiteSpace(c) || c == '+'))
        {
            throw new ArgumentException("A key name is non-empty, without spaces or '+'.", nameof(keyName));
        }
    }

    private static NoteSignature? ParseSignature(string line)
    {
        const string Dash = "\u2014 ";
        if (!line.StartsWith(Dash, StringComparison.Ordinal))
        {
            return null;
        }

        var parts = line[Dash.Length..].Split(' ');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[0].Contains('+', StringComparison.Ordinal))
        {
            return null;
        }

        var bytes = new byte[parts[1].Length];
        if (!Convert.TryFromBase64String(parts[1], bytes, out var written) || written <= 4)
        {
            return null;
        }

        return new NoteSignature(parts[0], BinaryPrimitives.ReadUInt32BigEndian(bytes), bytes[4..written]);
    }

    private static string Shorten(string line) => line.Length <= 60 ? line : line[..60] + "…";
}
