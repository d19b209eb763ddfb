using System.CommandLine;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>`controlplane policy`: run a bundle's tests offline, simulate a bundle against recorded proposals.</summary>
public static class PolicyCommand
{
    /// <param name="console">Where output goes (tests pass a recording console); the terminal by default.</param>
    public static Command Create(IAnsiConsole? console = null)
    {
        var output = console ?? AnsiConsole.Console;
        var command = new Command("policy", "Policy bundles: test them offline, simulate them against recorded proposals before activating.");
        command.Subcommands.Add(PolicyTestCommand.Create(output));
        command.Subcommands.Add(PolicySimulateCommand.Create(output));
        return command;
    }
}
