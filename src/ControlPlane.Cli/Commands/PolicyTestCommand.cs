using System.CommandLine;
using ControlPlane.Policy.Bundles;
using ControlPlane.Policy.Testing;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// `controlplane policy test &lt;file&gt;`: parses a bundle and runs its own tests offline, with the same parser and
/// evaluator the policy service uses. One line per case, then a summary. Exit 0 when every test passes, 1 when one
/// fails, 2 when the file cannot be read or is not a valid bundle (each error printed with line, column and YAML path).
/// </summary>
public static class PolicyTestCommand
{
    public const int Passed = 0;
    public const int Failed = 1;
    public const int Invalid = 2;

    public static Command Create(IAnsiConsole console)
    {
        var file = new Argument<string>("file") { Description = "The bundle's YAML file." };
        var command = new Command("test", "Run the tests a policy bundle carries (its top-level 'tests:' list), offline.") { file };
        command.SetAction(async (result, ct) =>
        {
            var path = result.GetValue(file)!;
            string yaml;
            try
            {
                yaml = await File.ReadAllTextAsync(path, ct);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
            {
                console.MarkupLineInterpolated($"[red]Cannot read '{path}': {ex.Message}[/]");
                return Invalid;
            }

            var parsed = BundleParser.Parse(yaml);
            if (!parsed.IsValid)
            {
                console.MarkupLineInterpolated($"[red]{path} is not a valid policy bundle ({parsed.Errors.Count} error(s)):[/]");
                foreach (var error in parsed.Errors)
                {
                    console.MarkupLineInterpolated($"  {error.Path}: {error}");
                }

                return Invalid;
            }

            var report = PolicyTestRunner.Run(new CompiledPolicy(parsed.Bundle!, "local"), DateTimeOffset.UtcNow);
            return Print(console, path, report);
        });
        return command;
    }

    public static int Print(IAnsiConsole console, string source, PolicyTestReport report)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        if (report.Total == 0)
        {
            console.MarkupLineInterpolated($"[yellow]{source} has no tests (add a top-level 'tests:' list).[/]");
            return Passed;
        }

        foreach (var test in report.Results)
        {
            if (test.Passed)
            {
                console.MarkupLineInterpolated($"[green]PASS[/] {test.Name}: {PolicyTestRunner.Wire(test.ActualOutcome)} [[{string.Join(", ", test.ActualRules)}]]");
            }
            else
            {
                console.MarkupLineInterpolated($"[red]FAIL[/] {test.Name}: {test.Failure}");
            }
        }

        if (report.AllPassed)
        {
            console.MarkupLineInterpolated($"[green]{report.Passed} of {report.Total} test(s) pass.[/]");
        }
        else
        {
            console.MarkupLineInterpolated($"[red]{report.Failed} of {report.Total} test(s) fail.[/]");
        }

        return report.AllPassed ? Passed : Failed;
    }
}
