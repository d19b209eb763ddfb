using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>Turns a failure the person can act on into one red line and exit code 1, not a stack trace.</summary>
public static class CommandRunner
{
    public static async Task<int> RunAsync(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (PlaneException ex)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(ex.Message)}[/]");
            return 1;
        }
        catch (HttpRequestException ex)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(ex.Message)}[/] (is ./run.sh running? `controlplane status` tells)");
            return 1;
        }
    }
}
