using System.Collections;
using System.ComponentModel;
using System.Diagnostics;
using ControlPlane.Contracts;

namespace ControlPlane.Runner.Actions;

/// <summary>
/// run-command: starts the allow-listed command the package names (see <see cref="CommandPlan"/>), captures its
/// output, and kills the whole process tree when the command's timeout (or the package's expiry) comes first.
/// </summary>
public sealed partial class RunCommandHandler(RunnerOptions options, TimeProvider clock, ILogger<RunCommandHandler> logger) : IActionHandler
{
    // Descendants that keep the output pipes open after the command exited get this long before the capture stops.
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(2);

    public string ActionKind => RunCommandOptions.Kind;

    /// <summary>Where commands run and write (HOME, default working directory, CP_STATE_DIR).</summary>
    public string Workspace { get; } = Path.Combine(options.StateDirectory!, "workspace");

    public string? Refusal(WorkPackage package) => Command(package).Refusal;

    private (string? Name, CommandSpec? Spec, string? Refusal) Command(WorkPackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (package.Parameters is null || !package.Parameters.TryGetValue(CommandPlan.CommandParameter, out var name) || string.IsNullOrEmpty(name))
        {
            return (null, null, $"{ActionKind} needs the parameter '{CommandPlan.CommandParameter}' naming an allow-listed command");
        }

        return options.Actions.RunCommand.Commands.TryGetValue(name, out var spec)
            ? (name, spec, null)
            : (name, null, $"command '{name}' is not allow-listed on runner {options.Id}");
    }

    public Task<ActionOutcome> RunAsync(WorkPackage package, DateTimeOffset deadline, CancellationToken ct) => RunAsync(package, null, deadline, ct);

    /// <summary>The credential reaches the command only as CP_TARGET_CREDENTIAL in its environment, and is cut from its captured output.</summary>
    public async Task<ActionOutcome> RunAsync(WorkPackage package, string? credential, DateTimeOffset deadline, CancellationToken ct)
    {
        var (name, spec, denied) = Command(package);
        if (name is null || spec is null)
        {
            return ActionOutcome.Refuse(denied!);
        }

        Directory.CreateDirectory(Workspace);
        var inherited = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => e.Value as string, StringComparer.Ordinal);
        var (start, refusal) = CommandPlan.Build(spec, name, package, options.Id, Workspace, options.BaseDirectory!, inherited, credential);
        if (start is null)
        {
            return ActionOutcome.Refuse(refusal!);
        }

        var remaining = deadline - clock.GetUtcNow();
        var timeout = spec.Timeout < remaining ? spec.Timeout : remaining;
        var timeoutCause = spec.Timeout < remaining ? $"its timeout of {spec.Timeout}" : $"the package's expiry at {deadline:O}";
        if (timeout <= TimeSpan.Zero)
        {
            return new ActionOutcome(WorkOutcome.TimedOut, null, TimeSpan.Zero, ActionOutcome.EmptyDigest, null, "the package expired before the command could start");
        }

        using var output = new OutputCapture(redact: credential);
        using var process = new Process { StartInfo = start };
        var started = Stopwatch.StartNew();
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException)
        {
            return new ActionOutcome(WorkOutcome.Failed, null, started.Elapsed, ActionOutcome.EmptyDigest, null, $"command '{name}' could not start: {ex.Message}");
        }

        LogStarted(logger, name, process.Id, package.WorkId);
        process.StandardInput.Close(); // a command never reads the runner's input
        using var drainStop = new CancellationTokenSource();
        var drain = Task.WhenAll(
            output.DrainAsync(process.StandardOutput.BaseStream, drainStop.Token),
            output.DrainAsync(process.StandardError.BaseStream, drainStop.Token));

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            KillTree(process);
            await process.WaitForExitAsync(CancellationToken.None);
        }

        try
        {
            await drain.WaitAsync(DrainGrace, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            await drainStop.CancelAsync();
        }
        catch (OperationCanceledException)
        {
            // the pipes were closed under the readers
        }

        var elapsed = started.Elapsed;
        ct.ThrowIfCancellationRequested(); // the runner is stopping: the caller reports that, not a timeout
        if (timedOut)
        {
            LogTimedOut(logger, name, package.WorkId);
            return new ActionOutcome(WorkOutcome.TimedOut, null, elapsed, output.Digest(), output.Excerpt(),
                $"command '{name}' exceeded {timeoutCause}; its process tree was killed");
        }

        var exitCode = process.ExitCode;
        return new ActionOutcome(exitCode == 0 ? WorkOutcome.Succeeded : WorkOutcome.Failed, exitCode, elapsed, output.Digest(), output.Excerpt(),
            exitCode == 0 ? null : $"command '{name}' exited with code {exitCode}");
    }

    private void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // it exited on its own in the meantime
        }
        catch (Win32Exception ex)
        {
            LogKillFailed(logger, ex, process.Id);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Started command {Command} (pid {Pid}) for work {WorkId}")]
    private static partial void LogStarted(ILogger logger, string command, int pid, Guid workId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Command {Command} of work {WorkId} timed out; killed its process tree")]
    private static partial void LogTimedOut(ILogger logger, string command, Guid workId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not kill the process tree of pid {Pid}")]
    private static partial void LogKillFailed(ILogger logger, Exception exception, int pid);
}
