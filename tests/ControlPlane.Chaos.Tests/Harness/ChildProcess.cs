using System.Diagnostics;

namespace ControlPlane.Chaos.Tests.Harness;

/// <summary>
/// A process of the suite's own whose output goes to a log file (appended across restarts, so a failure is
/// diagnosable) and that can be killed with SIGKILL, as a crash would.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ChildProcess(Process process, StreamWriter log)
    {
        _process = process;
        _log = log;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public static ChildProcess Start(string executable, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment,
        string workingDirectory, string logFile)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        var log = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        log.WriteLine($"==== {DateTimeOffset.UtcNow:HH:mm:ss.fff} start: {executable} {string.Join(' ', arguments)}");
        var process = new Process { StartInfo = start };
        void Write(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (log)
            {
                log.WriteLine(line);
            }
        }

        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ChildProcess(process, log);
    }

    /// <summary>SIGKILL: no shutdown hook runs, nothing is flushed (Process.Kill sends SIGKILL on Linux).</summary>
    public void Kill()
    {
        if (_process.HasExited)
        {
            return;
        }

        _process.Kill(entireProcessTree: false);
        _process.WaitForExit(10_000);
        lock (_log)
        {
            _log.WriteLine($"==== {DateTimeOffset.UtcNow:HH:mm:ss.fff} killed (SIGKILL)");
        }
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }
}
