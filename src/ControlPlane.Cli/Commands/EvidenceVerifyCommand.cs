using System.CommandLine;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification;
using ControlPlane.Evidence.Verification.Transparency;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// `controlplane evidence verify &lt;file&gt; [--trust sha256:…] [--require-log]`: checks a bundle with nothing but the bundle,
/// printing each check as it passes. Exit 0 when every check passes, 1 with the first precise failure, 2 when
/// the file cannot be read.
/// </summary>
public static class EvidenceVerifyCommand
{
    public const int Verified = 0;
    public const int Failed = 1;
    public const int Unreadable = 2;

    public static Command Create(IAnsiConsole console)
    {
        var file = new Argument<FileInfo>("file") { Description = "The bundle (JSON) to verify." };
        var trust = new Option<string?>("--trust")
        {
            Description = "Fingerprint (sha256:…) of the evidence key you trust, from GET /evidence/keys; without it the key in the bundle is reported, not pinned.",
        };
        var requireLog = new Option<bool>("--require-log")
        {
            Description = "Fail a bundle that carries no transparency-log section (inclusion proofs against a signed checkpoint); bundles from before the log have none.",
        };
        var witness = new Option<string[]>("--witness")
        {
            Description = "A witness whose cosignature on the log checkpoint counts, as name+base64 Ed25519 key (GET /key on the witness); repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var required = new Option<int>("--witnesses-required")
        {
            Description = "How many of the --witness keys must have cosigned the bundle's log checkpoint.",
        };
        var command = new Command("verify", "Verify an evidence bundle offline: hashes, chain links, every signature, the summary, the checkpoint and the log's inclusion proofs.");
        command.Arguments.Add(file);
        command.Options.Add(trust);
        command.Options.Add(requireLog);
        command.Options.Add(witness);
        command.Options.Add(required);
        var inToto = new InTotoVerifyCommand();
        inToto.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            if (parse.GetValue(inToto.InToto))
            {
                return await inToto.RunAsync(parse, path, parse.GetValue(trust), console, ct);
            }

            byte[] json;
            try
            {
                json = await File.ReadAllBytesAsync(path.FullName, ct);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                console.MarkupLineInterpolated($"[red]cannot read {path.FullName}: {ex.Message}[/]");
                return Unreadable;
            }

            console.MarkupLineInterpolated($"Verifying {path.FullName}");
            var witnesses = new List<WitnessKey>();
            foreach (var text in parse.GetValue(witness) ?? [])
            {
                if (!WitnessKey.TryParse(text, out var key))
                {
                    console.MarkupLineInterpolated($"[red]--witness '{text}' is not name+base64 of a 32-byte Ed25519 key[/]");
                    return Unreadable;
                }

                witnesses.Add(key!);
            }

            return Run(json, console, new BundleVerifyOptions(parse.GetValue(trust), parse.GetValue(requireLog), witnesses, parse.GetValue(required)));
        });
        return command;
    }

    /// <summary>Verifies <paramref name="json"/> and reports to <paramref name="console"/>; returns the exit code.</summary>
    public static int Run(ReadOnlySpan<byte> json, string? trustedKey, IAnsiConsole console) => Run(json, console, new BundleVerifyOptions(trustedKey));

    /// <summary>Verifies <paramref name="json"/> with these options and reports to <paramref name="console"/>; returns the exit code.</summary>
    public static int Run(ReadOnlySpan<byte> json, IAnsiConsole console, BundleVerifyOptions options)
    {
        ArgumentNullException.ThrowIfNull(console);
        var result = EvidenceBundleVerifier.Verify(json, options,
            (_, description) => console.MarkupLineInterpolated($"[green]ok[/]   {description}"));
        if (result.Ok)
        {
            console.MarkupLine("[green]Bundle verifies.[/]");
            return Verified;
        }

        console.MarkupLineInterpolated($"[red]FAIL[/] {result.FailedCheck}: {result.Failure}");
        console.MarkupLine("[red]Bundle does not verify.[/]");
        return Failed;
    }
}
