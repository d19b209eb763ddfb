using System.CommandLine;
using ControlPlane.Cli.Commands;
using Spectre.Console;

namespace ControlPlane.Cli.Tests.Evidence;

/// <summary>Runs `controlplane evidence …` in-process and captures what it prints.</summary>
internal static class CliRun
{
    public static async Task<(int ExitCode, string Output)> EvidenceAsync(params string[] args)
    {
        var (console, writer) = Capture();
        var root = new RootCommand("test") { EvidenceCommand.Create(console) };
        var exitCode = await root.Parse(["evidence", .. args]).InvokeAsync();
        return (exitCode, writer.ToString());
    }

    /// <summary>A console without colours or wrapping whose output the test reads.</summary>
    public static (IAnsiConsole Console, StringWriter Output) Capture()
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 1000; // no wrapping: assertions read whole lines
        return (console, writer);
    }
}
