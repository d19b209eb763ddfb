using System.CommandLine;
using ControlPlane.Evidence.Verification.InToto;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// `controlplane evidence export &lt;proposalId&gt; --in-toto [-o file.intoto.jsonl]`: downloads the proposal's policy
/// decisions, approvals and runner results as an in-toto attestation bundle (DSSE envelopes signed by evidence, one per
/// line), which `controlplane evidence verify --in-toto` checks offline.
/// </summary>
public static class EvidenceExportCommand
{
    public static Command Create(IAnsiConsole console, HttpMessageHandler? handler = null)
    {
        var proposal = new Argument<Guid>("proposalId") { Description = "The proposal whose attestations to export." };
        var inToto = new Option<bool>("--in-toto") { Description = "Export in-toto Statement v1 attestations in DSSE envelopes, one per line (the one export format so far)." };
        var download = new EvidenceDownload("attestation bundle", $"proposal-<proposalId>{InTotoFormat.BundleSuffix}");
        var command = new Command("export", "Export a proposal's decisions, approvals and runner results as signed in-toto attestations.");
        command.Arguments.Add(proposal);
        command.Options.Add(inToto);
        download.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            if (!parse.GetValue(inToto))
            {
                console.MarkupLine("[red]Say the format: --in-toto (an in-toto attestation bundle). `controlplane evidence bundle` downloads the evidence bundle.[/]");
                return 2;
            }

            var id = parse.GetValue(proposal);
            return await download.RunAsync(parse, $"evidence/proposals/{id:D}/in-toto", $"proposal-{id:D}{InTotoFormat.BundleSuffix}", console, handler, ct);
        });
        return command;
    }
}
