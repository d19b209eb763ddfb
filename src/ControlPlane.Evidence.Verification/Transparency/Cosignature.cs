using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace ControlPlane.Evidence.Verification.Transparency;

/// <summary>A witness as a verifier knows it: its name and Ed25519 public key (32 bytes).</summary>
public sealed record WitnessKey(string Name, byte[] PublicKey)
{
    public uint KeyId => Cosignature.KeyId(Name, PublicKey);

    /// <summary>"name+base64(public key)", the form the CLI and configuration take.</summary>
    public static bool TryParse(string text, out WitnessKey? key)
    {
        key = null;
        var plus = text?.IndexOf('+', StringComparison.Ordinal) ?? -1; // names hold no '+'; base64 may
        if (plus <= 0)
        {
            return false;
        }

        var bytes = new byte[33];
        if (!Convert.TryFromBase64String(text![(plus + 1)..], bytes, out var written) || written != 32)
        {
            return false;
        }

        key = new WitnessKey(text[..plus], bytes[..32]);
        return true;
    }

    public override string ToString() => $"{Name}+{Convert.ToBase64String(PublicKey)}";
}

/// <summary>
/// C2SP tlog-cosignature v1 with Ed25519 (signature type 0x04): a witness's timestamped statement that the checkpoint
/// is the largest consistent tree head it has seen for the log. The signed message is "cosignature/v1\n",
/// "time &lt;POSIX seconds&gt;\n" and the checkpoint text; the signature bytes are the 8-byte big-endian timestamp and
/// the 64-byte Ed25519 signature; the key id is SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4].
/// </summary>
public static class Cosignature
{
    private const byte Ed25519CosignatureType = 0x04;
    private static readonly SignatureAlgorithm Ed25519 = SignatureAlgorithm.Ed25519;

    public static uint KeyId(string name, ReadOnlySpan<byte> publicKey)
    {
        var input = new byte[Encoding.UTF8.GetByteCount(name) + 2 + publicKey.Length];
        var written = Encoding.UTF8.GetBytes(name, input);
        input[written] = (byte)'\n';
        input[written + 1] = Ed25519CosignatureType;
        publicKey.CopyTo(input.AsSpan(written + 2));
        return BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(input));
    }

    public static byte[] Message(string checkpointText, long timestamp) =>
        Encoding.UTF8.GetBytes($"cosignature/v1\ntime {timestamp.ToString(CultureInfo.InvariantCulture)}\n{checkpointText}");

    /// <summary>A fresh witness key, exportable so the witness can keep it (raw 32-byte private key).</summary>
    public static Key CreateKey() => Key.Create(Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });

    public static Key ImportKey(ReadOnlySpan<byte> rawPrivateKey) =>
        Key.Import(Ed25519, rawPrivateKey, KeyBlobFormat.RawPrivateKey, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });

    public static byte[] PublicKeyOf(Key key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
    }

    public static NoteSignature Sign(string checkpointText, string name, Key key, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(key);
        var timestamp = at.ToUnixTimeSeconds();
        var signature = new byte[8 + 64];
        BinaryPrimitives.WriteInt64BigEndian(signature, timestamp);
        Ed25519.Sign(key, Message(checkpointText, timestamp), signature.AsSpan(8));
        return new NoteSignature(name, KeyId(name, PublicKeyOf(key)), signature);
    }

    /// <summary>Whether the note carries a valid cosignature by this witness; its time when it does.</summary>
    public static bool Verify(SignedNote note, WitnessKey witness, out DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(note);
        ArgumentNullException.ThrowIfNull(witness);
        at = default;
        var publicKey = PublicKey.Import(Ed25519, witness.PublicKey, KeyBlobFormat.RawPublicKey);
        foreach (var signature in note.Signatures.Where(s => s.KeyName == witness.Name && s.KeyId == witness.KeyId))
        {
            if (signature.Signature.Length != 8 + 64)
            {
                return false;
            }

            var timestamp = BinaryPrimitives.ReadInt64BigEndian(signature.Signature);
            if (timestamp < 0 || !Ed25519.Verify(publicKey, Message(note.Text, timestamp), signature.Signature.AsSpan(8)))
            {
                return false;
            }

            at = DateTimeOffset.FromUnixTimeSeconds(timestamp);
            return true;
        }

        return false;
    }
}
