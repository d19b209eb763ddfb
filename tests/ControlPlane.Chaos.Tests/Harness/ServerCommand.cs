using System.Diagnostics;
using System.Net.Sockets;

namespace ControlPlane.Chaos.Tests.Harness;

/// <summary>Runs a server's control command (initdb, pg_ctl, rabbitmqctl) to its end and waits for ports.</summary>
public static class ServerCommand
{
    public static async Task RunAsync(string executable, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{executable} {string.Join(' ', start.ArgumentList)} did not finish within {timeout.TotalSeconds:0} s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{executable} {string.Join(' ', start.ArgumentList)} exited with {process.ExitCode}: {await output} {await error}");
        }
    }

    /// <summary>Runs as the postgres user when this process is root (initdb and postgres refuse root).</summary>
    public static Task RunAsPostgresAsync(string command, TimeSpan timeout) => Environment.UserName == "root"
        ? RunAsync("su", ["postgres", "-s", "/bin/sh", "-c", command], null, timeout)
        : RunAsync("/bin/sh", ["-c", command], null, timeout);

    public static async Task WaitForPortAsync(string what, int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
            catch (SocketException e)
            {
                throw new TimeoutException($"{what} did not listen on 127.0.0.1:{port} within {timeout.TotalSeconds:0} s", e);
            }
        }
    }
}
