using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace ControlPlane.Orchestrator.Tests.Infrastructure;

/// <summary>
/// A redis-server of the test's own (own port, own folder, snapshots only when asked) that the test may crash and
/// restart from its last snapshot, as a Redis that loses acknowledged writes does. The shared server is never touched.
/// </summary>
public sealed class PrivateRedis : IAsyncDisposable
{
    private const string Executable = "/usr/bin/redis-server";
    private Process? _process;

    private PrivateRedis(int port, string directory)
    {
        Port = port;
        Directory = directory;
    }

    public int Port { get; }

    public string Directory { get; }

    public string Address => $"127.0.0.1:{Port}";

    public static async Task<PrivateRedis> StartAsync()
    {
        Assert.True(File.Exists(Executable), $"{Executable} is missing: install the redis-server package (eng/servers.sh up does).");
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var redis = new PrivateRedis(port, Path.Combine(Path.GetTempPath(), $"cpt-redis-{Guid.NewGuid():N}"));
        System.IO.Directory.CreateDirectory(redis.Directory);
        await redis.StartProcessAsync();
        return redis;
    }

    /// <summary>SAVE: the snapshot a later restart comes back from.</summary>
    public async Task SnapshotAsync()
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"{Address},allowAdmin=true");
        // A blocking SAVE is what this private server is for: the snapshot is complete when the call returns.
#pragma warning disable CS0618
        await admin.GetServer(Address).SaveAsync(SaveType.ForegroundSave);
#pragma warning restore CS0618
    }

    /// <summary>Kills the server without saving and starts it again: it comes back with the last snapshot only.</summary>
    public async Task CrashAndRestartAsync()
    {
        Kill();
        await StartProcessAsync();
    }

    public async Task<string?> GetAsync(string key)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Address);
        return await connection.GetDatabase().StringGetAsync(key);
    }

    private async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--dir", Directory, "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no" })
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start)!;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        System.IO.Directory.Delete(Directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}
