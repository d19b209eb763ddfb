using StackExchange.Redis;

namespace ControlPlane.Chaos.Tests.Harness;

/// <summary>
/// A redis-server of the suite's own (own port and folder, snapshots only when asked), so restarting it, or bringing it
/// back from an older snapshot as a Redis that lost acknowledged writes would, never touches the shared server.
/// </summary>
public sealed class PrivateRedis : IAsyncDisposable
{
    private const string Executable = "/usr/bin/redis-server";
    private readonly string _directory;
    private readonly string _logFile;
    private ChildProcess? _process;

    private PrivateRedis(string directory, string logFile)
    {
        _directory = directory;
        _logFile = logFile;
        Port = FreePorts.Next();
    }

    public int Port { get; }

    private string Address => $"127.0.0.1:{Port}";

    private string Dump => Path.Combine(_directory, "dump.rdb");

    private string OldDump => Path.Combine(_directory, "older.rdb");

    public static async Task<PrivateRedis> StartAsync(string root, string logs)
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"{Executable} is missing: install the redis-server package (eng/servers.sh up does).");
        }

        var redis = new PrivateRedis(Path.Combine(root, "redis"), Path.Combine(logs, "redis.log"));
        Directory.CreateDirectory(redis._directory);
        await redis.StartProcessAsync();
        return redis;
    }

    /// <summary>SAVE now and keep that snapshot aside: what <see cref="RestoreOlderSnapshotAsync"/> comes back from later.</summary>
    public async Task KeepSnapshotAsync()
    {
        await SaveAsync();
        File.Copy(Dump, OldDump, overwrite: true);
    }

    /// <summary>A clean restart: everything saved, the process stopped and started again.</summary>
    public async Task RestartAsync()
    {
        await SaveAsync();
        _process?.Dispose();
        await StartProcessAsync();
    }

    /// <summary>Killed without saving, and started from the snapshot kept earlier: every write since is lost.</summary>
    public async Task RestoreOlderSnapshotAsync()
    {
        _process?.Dispose();
        File.Copy(OldDump, Dump, overwrite: true);
        await StartProcessAsync();
    }

    private async Task SaveAsync()
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"{Address},allowAdmin=true");
        // A blocking SAVE is what this private server is for: the snapshot is complete when the call returns.
#pragma warning disable CS0618
        await admin.GetServer(Address).SaveAsync(SaveType.ForegroundSave);
#pragma warning restore CS0618
    }

    private async Task StartProcessAsync()
    {
        _process = ChildProcess.Start(Executable,
            ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _directory,
             "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no"],
            new Dictionary<string, string?>(), _directory, _logFile);
        await ServerCommand.WaitForPortAsync("redis-server", Port, TimeSpan.FromSeconds(20));
    }

    public ValueTask DisposeAsync()
    {
        _process?.Dispose();
        return ValueTask.CompletedTask;
    }
}
