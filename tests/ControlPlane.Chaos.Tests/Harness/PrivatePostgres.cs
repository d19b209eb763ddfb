using System.Globalization;

namespace ControlPlane.Chaos.Tests.Harness;

/// <summary>
/// A PostgreSQL cluster of the suite's own (initdb under a temp folder, its own port), from Debian's postgresql
/// package, so a restart in the middle of the burst never disturbs the shared server other tests use.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _data;
    private readonly string _serverLog;
    private readonly string _logs;

    private PrivatePostgres(string bin, string root, string logs)
    {
        _bin = bin;
        _data = Path.Combine(root, "data");
        _serverLog = Path.Combine(root, "postgres.log");
        _logs = logs;
        Port = FreePorts.Next();
    }

    public int Port { get; }

    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database}";

    public static async Task<PrivatePostgres> StartAsync(string root, string logs)
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "pg_ctl"))).OrderBy(d => d, StringComparer.Ordinal).LastOrDefault()
            : null;
        if (bin is null)
        {
            throw new InvalidOperationException("pg_ctl not found under /usr/lib/postgresql/*/bin: install the postgresql package (eng/servers.sh up does).");
        }

        var pgRoot = Path.Combine(root, "postgres");
        Directory.CreateDirectory(pgRoot);
        if (Environment.UserName == "root")
        {
            // initdb and postgres refuse root: the cluster belongs to the postgres user.
            await ServerCommand.RunAsync("chown", ["-R", "postgres:postgres", pgRoot], null, TimeSpan.FromSeconds(10));
            await ServerCommand.RunAsync("chmod", ["755", root], null, TimeSpan.FromSeconds(10));
        }

        var postgres = new PrivatePostgres(bin, pgRoot, logs);
        await ServerCommand.RunAsPostgresAsync($"'{bin}/initdb' -D '{postgres._data}' -A trust -U postgres -E UTF8 >/dev/null", TimeSpan.FromSeconds(120));
        await postgres.StartServerAsync();
        return postgres;
    }

    /// <summary>Stops the server as a crash would (immediate: no checkpoint, recovery at start) and starts it again.</summary>
    public async Task RestartAsync()
    {
        await ServerCommand.RunAsPostgresAsync($"'{_bin}/pg_ctl' -D '{_data}' -m immediate -w stop >/dev/null", TimeSpan.FromSeconds(60));
        await StartServerAsync();
    }

    private async Task StartServerAsync()
    {
        var options = string.Create(CultureInfo.InvariantCulture,
            $"-k '{_data}' -c listen_addresses=127.0.0.1 -p {Port} -c max_connections=300");
        await ServerCommand.RunAsPostgresAsync($"'{_bin}/pg_ctl' -D '{_data}' -w -t 60 -l '{_serverLog}' -o \"{options}\" start >/dev/null",
            TimeSpan.FromSeconds(90));
        await ServerCommand.WaitForPortAsync("PostgreSQL", Port, TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ServerCommand.RunAsPostgresAsync($"'{_bin}/pg_ctl' -D '{_data}' -m immediate -w stop >/dev/null", TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (File.Exists(_serverLog))
            {
                File.Copy(_serverLog, Path.Combine(_logs, "postgres.log"), overwrite: true);
            }
        }
    }
}
