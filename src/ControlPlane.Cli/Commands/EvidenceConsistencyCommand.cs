using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification.Transparency;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>A consistency proof as `GET /evidence/proofs/consistency` serves it.</summary>
public sealed record ConsistencyProofFile(long From, long To, IReadOnlyList<string> Proof);

/// <summary>
/// `controlplane evidence consistency &lt;old&gt; &lt;new&gt; --proof &lt;file&gt; --keys &lt;file&gt; [--trust sha256:…]`:
/// checks offline that the log of the newer checkpoint extends the older one (nothing recorded before was changed
/// or removed). Both checkpoints must be signed by an evidence key from the key set (GET /evidence/keys). Exit 0 when
/// it holds, 1 when it does not, 2 when a file cannot be read.
/// </summary>
public static class EvidenceConsistencyCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var older = new Argument<FileInfo>("old") { Description = "The older checkpoint (a signed note, as GET /evidence/checkpoint serves it)." };
        var newer = new Argument<FileInfo>("new") { Description = "The newer checkpoint." };
        var proof = new Option<FileInfo>("--proof") { Description = "The proof: GET /evidence/proofs/consistency?from=<old size>&to=<new size>.", Required = true };
        var keys = new Option<FileInfo>("--keys") { Description = "Evidence's public keys: GET /evidence/keys.", Required = true };
        var trust = new Option<string?>("--trust") { Description = "Fingerprint (sha256:…) of the evidence key you trust; without it any key in the key set is accepted and named." };
        var command = new Command("consistency", "Verify offline that a newer evidence checkpoint extends an older one (RFC 9162 consistency proof).");
        command.Arguments.Add(older);
        command.Arguments.Add(newer);
        command.Options.Add(proof);
        command.Options.Add(keys);
        command.Options.Add(trust);
        command.SetAction(async (parse, ct) =>
        {
            string oldNote, newNote;
            ConsistencyProofFile? proofFile;
            EvidenceKeySet? keySet;
            try
            {
                oldNote = await File.ReadAllTextAsync(parse.GetValue(older)!.FullName, ct);
                newNote = await File.ReadAllTextAsync(parse.GetValue(newer)!.FullName, ct);
                proofFile = JsonSerializer.Deserialize<ConsistencyProofFile>(await File.ReadAllBytesAsync(parse.GetValue(proof)!.FullName, ct), EvidenceFormat.Json);
                keySet = JsonSerializer.Deserialize<EvidenceKeySet>(await File.ReadAllBytesAsync(parse.GetValue(keys)!.FullName, ct), EvidenceFormat.Json);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
            {
                console.MarkupLineInterpolated($"[red]cannot read the input: {ex.Message}[/]");
                return EvidenceVerifyCommand.Unreadable;
            }

            var failure = Run(oldNote, newNote, proofFile, keySet, parse.GetValue(trust), console);
            if (failure is null)
            {
                return EvidenceVerifyCommand.Verified;
            }

            console.MarkupLineInterpolated($"[red]FAIL[/] {failure}");
            return EvidenceVerifyCommand.Failed;
        });
        return command;
    }

    /// <returns>null when the newer checkpoint extends the older one, else why not.</returns>
    public static string? Run(string oldNote, string newNote, ConsistencyProofFile? proof, EvidenceKeySet? keySet, string? trustedKey, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        var candidates = (keySet?.Keys ?? []).Where(k => trustedKey is null || k.Fingerprint == trustedKey).ToList();
        if (candidates.Count == 0)
        {
            return trustedKey is null ? "the key set holds no evidence key" : $"the key set holds no key with fingerprint {trustedKey}";
        }

        if (Signed(oldNote, "older", candidates, console, out var first) is { } oldFailure)
        {
            return oldFailure;
        }

        if (Signed(newNote, "newer", candidates, console, out var second) is { } newFailure)
        {
            return newFailure;
        }

        if (first!.Origin != second!.Origin)
        {
            return $"the checkpoints are of two logs: '{first.Origin}' and '{second.Origin}'";
        }

        if (proof is null || proof.Proof is null || proof.From != first.Size || proof.To != second.Size)
        {
            return $"the proof is not for sizes {first.Size} -> {second.Size} (it says {proof?.From} -> {proof?.To})";
        }

        var hashes = new List<byte[]>();
        foreach (var text in proof.Proof)
        {
            try
            {
                hashes.Add(Convert.FromBase64String(text));
            }
            catch (FormatException)
            {
                return "the proof holds a hash that is not base64";
            }
        }

        if (!MerkleProofs.VerifyConsistency(first.Size, second.Size, first.RootHash, second.RootHash, hashes))
        {
            return $"the log at size {second.Size} does NOT extend the log at size {first.Size}: the proof does not join the two signed roots";
        }

        console.MarkupLineInterpolated($"[green]ok[/]   consistency proof of {hashes.Count} hashes joins root {Convert.ToBase64String(first.RootHash)} to {Convert.ToBase64String(second.RootHash)}");
        console.MarkupLineInterpolated($"[green]The log '{second.Origin}' at size {second.Size} extends its checkpoint at size {first.Size}.[/]");
        return null;
    }

    private static string? Signed(string note, string which, IReadOnlyList<EvidencePublicKey> keys, IAnsiConsole console, out Checkpoint? checkpoint)
    {
        checkpoint = null;
        if (!SignedNote.TryParse(note, out var signed, out var failure) || !Checkpoint.TryParse(signed!.Text, out checkpoint, out failure))
        {
            return $"the {which} checkpoint is malformed: {failure}";
        }

        foreach (var key in keys)
        {
            using var ecdsa = ECDsa.Create();
            ecdsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(key.PublicKey), out _);
            if (signed.VerifyEcdsa(checkpoint!.Origin, ecdsa, out _))
            {
                console.MarkupLineInterpolated($"[green]ok[/]   {which} checkpoint: '{checkpoint.Origin}' size {checkpoint.Size}, signed by evidence key '{key.KeyId}' ({key.Fingerprint})");
                return null;
            }
        }

        return $"the {which} checkpoint is not signed by {(keys.Count == 1 ? $"evidence key '{keys[0].KeyId}'" : "any key of the key set")}";
    }
}
