using System.CommandLine;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// `controlplane evidence bundle &lt;proposalId&gt; [--out file] [--token t] [--evidence-url u]`: downloads the
/// proposal's evidence bundle and writes it to a file (see <see cref="EvidenceDownload"/> for the token and address).
/// </summary>
public static class EvidenceBundleCommand
{
    public const string TokenVariable = EvidenceDownload.TokenVariable;

    public static Command Create(IAnsiConsole console, HttpMessageHandler? handler = null)
    {
        var proposal = new Argument<Guid>("proposalId") { Description = "The proposal whose evidence to download." };
        var download = new EvidenceDownload("bundle", "evidence-<proposalId>.json");
        var command = new Command("bundle", "Download a proposal's signed evidence bundle to a file.");
        command.Arguments.Add(proposal);
        download.AddTo(command);
        command.SetAction((parse, ct) =>
        {
            var id = parse.GetValue(proposal);
            return download.RunAsync(parse, $"evidence/proposals/{id:D}/bundle", $"evidence-{id:D}.json", console, handler, ct);
        });
        return command;
    }
}
