using System.CommandLine;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>`controlplane evidence`: download a proposal's evidence bundle, verify bundles and log consistency offline.</summary>
public static class EvidenceCommand
{
    /// <param name="console">Where output goes (tests pass a recording console); the terminal by default.</param>
    /// <param name="http">Handler for the download (tests may pass one); a plain HttpClient handler by default.</param>
    public static Command Create(IAnsiConsole? console = null, HttpMessageHandler? http = null)
    {
        var command = new Command("evidence", "Download evidence bundles and verify them offline.");
        command.Subcommands.Add(EvidenceVerifyCommand.Create(console ?? AnsiConsole.Console));
        command.Subcommands.Add(EvidenceBundleCommand.Create(console ?? AnsiConsole.Console, http));
        command.Subcommands.Add(EvidenceConsistencyCommand.Create(console ?? AnsiConsole.Console));
        command.Subcommands.Add(EvidenceExportCommand.Create(console ?? AnsiConsole.Console, http));
        return command;
    }
}
