using System.CommandLine;
using System.Text.Json;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification;
using ControlPlane.Evidence.Verification.InToto;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// `controlplane evidence verify --in-toto &lt;file.intoto.jsonl&gt; [--keys keys.json] [--content-hash sha256:…] [--trust sha256:…]`:
/// checks every envelope of an attestation bundle against evidence's public keys (from --keys, the saved answer of
/// GET /evidence/keys, else fetched from evidence) with <see cref="InTotoVerifier"/>, printing one line per statement
/// and a summary. Exit 0 when all verify, 1 at the first failure, 2 when an input cannot be read.
/// </summary>
public sealed class InTotoVerifyCommand
{
    public Option<bool> InToto { get; } = new("--in-toto")
    {
        Description = "The file is an in-toto attestation bundle (controlplane evidence export --in-toto): check each envelope's signature, payload type, statement type and subject.",
    };

    public Option<FileInfo?> Keys { get; } = new("--keys") { Description = "With --in-toto: evidence's public keys (GET /evidence/keys saved to a file); without it they are fetched from evidence." };

    public Option<string?> ContentHash { get; } = new("--content-hash") { Description = "With --in-toto: the proposal's content hash (sha256:…); every statement's subject digest must equal it." };

    public Option<FileInfo?> Bundle { get; } = new("--bundle")
    {
        Description = "With --in-toto: the proposal's evidence bundle (controlplane evidence bundle); it must verify with its transparency log, and hold and prove every attested record.",
    };

    public Option<string?> Url { get; } = new("--evidence-url") { Description = "With --in-toto and no --keys: evidence's base address for GET /evidence/keys (default: services__evidence__http__0, else http://127.0.0.1:5106)." };

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(InToto);
        command.Options.Add(Keys);
        command.Options.Add(ContentHash);
        command.Options.Add(Bundle);
        command.Options.Add(Url);
    }

    public async Task<int> RunAsync(ParseResult parse, FileInfo file, string? trust, IAnsiConsole console, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(console);
        string bundle;
        EvidenceKeySet? keys;
        byte[]? evidence = null;
        try
        {
            bundle = await File.ReadAllTextAsync(file.FullName, ct);
            if (parse.GetValue(Bundle) is { } evidenceFile)
            {
                evidence = await File.ReadAllBytesAsync(evidenceFile.FullName, ct);
            }

            keys = parse.GetValue(Keys) is { } keyFile
                ? JsonSerializer.Deserialize<EvidenceKeySet>(await File.ReadAllBytesAsync(keyFile.FullName, ct), EvidenceFormat.Json)
                : await FetchKeysAsync(parse.GetValue(Url), console, ct);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or HttpRequestException)
        {
            console.MarkupLineInterpolated($"[red]cannot read the input: {ex.Message}[/]");
            return EvidenceVerifyCommand.Unreadable;
        }

        if (keys is null)
        {
            return EvidenceVerifyCommand.Unreadable;
        }

        console.MarkupLineInterpolated($"Verifying in-toto attestations in {file.FullName} against {keys.Keys.Count} evidence key(s)");
        var result = InTotoVerifier.Verify(bundle, keys.Keys, new InTotoVerifyOptions(trust, parse.GetValue(ContentHash)));
        if (result.Ok && evidence is not null && Link(result, evidence, trust) is { } unlinked)
        {
            result = result with { Failure = unlinked };
        }

        return Report(result, console, evidence is null ? null : "the evidence bundle verifies (log required) and holds and proves every attested record");
    }

    /// <summary>Null when the evidence bundle verifies (log required) and holds and proves every attested record; else why not.</summary>
    private static string? Link(InTotoVerification result, byte[] evidence, string? trust)
    {
        var bundleCheck = EvidenceBundleVerifier.Verify(evidence, new BundleVerifyOptions(trust, RequireLogProof: true));
        if (!bundleCheck.Ok)
        {
            return $"the evidence bundle does not verify: {bundleCheck.FailedCheck}: {bundleCheck.Failure}";
        }

        var parsed = JsonSerializer.Deserialize<EvidenceBundle>(evidence, EvidenceFormat.Json)!;
        return InTotoBundleLink.Check(result, parsed) is { } failure
            ? $"not tied to the evidence bundle: {failure}"
            : null;
    }

    /// <summary>Prints one line per statement that verified, then the failure or <paramref name="linked"/> and the summary; returns the exit code.</summary>
    public static int Report(InTotoVerification result, IAnsiConsole console, string? linked = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(console);
        foreach (var s in result.Statements)
        {
            console.MarkupLineInterpolated(
                $"[green]ok[/]   line {s.Line}  {InTotoVerifier.Short(s.PredicateType)}  record {s.Evidence.Sequence} ({s.Evidence.Kind}, leaf {s.Evidence.LeafIndex} of {s.Evidence.Log}): {s.Summary}");
        }

        if (!result.Ok)
        {
            console.MarkupLineInterpolated($"[red]FAIL[/] {(result.FailedLine is { } line ? $"line {line}: " : "")}{result.Failure}");
            console.MarkupLine("[red]In-toto attestations do not verify.[/]");
            return EvidenceVerifyCommand.Failed;
        }

        if (linked is not null)
        {
            console.MarkupLineInterpolated($"[green]ok[/]   {linked}");
        }

        var signers = string.Join(", ", result.Statements.Select(s => $"'{s.KeyId}'").Distinct(StringComparer.Ordinal));
        console.MarkupLineInterpolated(
            $"[green]{result.Statements.Count} statement(s) verify[/]: subject {result.Subject!.Name} sha256:{result.Subject.Digest["sha256"]}, signed by evidence key {signers}.");
        return EvidenceVerifyCommand.Verified;
    }

    private static async Task<EvidenceKeySet?> FetchKeysAsync(string? url, IAnsiConsole console, CancellationToken ct)
    {
        if (EvidenceDownload.BaseAddress(url, console) is not { } baseAddress)
        {
            return null;
        }

        // The key set is public (like JWKS): no token needed. Pin it with --trust when the plane itself is not trusted.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var keys = JsonSerializer.Deserialize<EvidenceKeySet>(await http.GetByteArrayAsync(new Uri(baseAddress, "evidence/keys"), ct), EvidenceFormat.Json);
        console.MarkupLineInterpolated($"Fetched evidence's public keys from {baseAddress}evidence/keys");
        return keys;
    }
}
