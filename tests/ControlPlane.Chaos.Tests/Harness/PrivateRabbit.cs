using System.Globalization;

namespace ControlPlane.Chaos.Tests.Harness;

/// <summary>
/// A RabbitMQ node of the suite's own (own node name, AMQP and distribution ports, data, logs and Erlang cookie
/// under a temp folder; no management plugin), from the OS package eng/servers.sh uses, so restarting the broker
/// during the burst never touches the shared one.
/// </summary>
public sealed class PrivateRabbit : IAsyncDisposable
{
    private const string Bin = "/usr/lib/rabbitmq/bin";
    private readonly string _root;
    private readonly string _logFile;
    private readonly Dictionary<string, string?> _environment;
    private ChildProcess? _server;

    private PrivateRabbit(string root, string logs)
    {
        _root = root;
        _logFile = Path.Combine(logs, "rabbitmq.log");
        Port = FreePorts.Next();
        var node = $"cpchaos{Guid.NewGuid():N}"[..16] + "@localhost";
        Node = node;
        _environment = new Dictionary<string, string?>
        {
            ["RABBITMQ_NODENAME"] = node,
            ["RABBITMQ_DIST_PORT"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(root, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(root, "log"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(root, "enabled_plugins"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(root, "rabbitmq.conf"),
            ["RABBITMQ_PID_FILE"] = Path.Combine(root, "rabbit.pid"),
            ["HOME"] = root, // the Erlang cookie lives here, for the server and rabbitmqctl alike
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
        };
    }

    public int Port { get; }

    public string Node { get; }

    public string ConnectionString => $"amqp://guest:guest@127.0.0.1:{Port}";

    public static async Task<PrivateRabbit> StartAsync(string root, string logs)
    {
        if (!File.Exists(Path.Combine(Bin, "rabbitmq-server")))
        {
            throw new InvalidOperationException($"{Bin}/rabbitmq-server is missing: install the rabbitmq-server package (eng/servers.sh up does).");
        }

        var rabbit = new PrivateRabbit(Path.Combine(root, "rabbitmq"), logs);
        Directory.CreateDirectory(rabbit._root);
        await File.WriteAllTextAsync(Path.Combine(rabbit._root, "enabled_plugins"), "[].");
        await File.WriteAllTextAsync(Path.Combine(rabbit._root, "rabbitmq.conf"),
            $"listeners.tcp.1 = 127.0.0.1:{rabbit.Port}\nloopback_users = none\n");
        await rabbit.StartServerAsync();
        return rabbit;
    }

    /// <summary>A broker restart: the node shuts down (durable queues and persistent messages kept) and starts again.</summary>
    public async Task RestartAsync()
    {
        await StopServerAsync();
        await StartServerAsync();
    }

    private async Task StartServerAsync()
    {
        _server?.Dispose();
        _server = ChildProcess.Start(Path.Combine(Bin, "rabbitmq-server"), [], _environment, _root, _logFile);
        await ServerCommand.RunAsync(Path.Combine(Bin, "rabbitmqctl"), ["-n", Node, "wait", Path.Combine(_root, "rabbit.pid"), "--timeout", "120"],
            _environment, TimeSpan.FromSeconds(150));
        await ServerCommand.WaitForPortAsync("RabbitMQ", Port, TimeSpan.FromSeconds(30));
    }

    private async Task StopServerAsync()
    {
        try
        {
            await ServerCommand.RunAsync(Path.Combine(Bin, "rabbitmqctl"), ["-n", Node, "shutdown", "--timeout", "60"], _environment, TimeSpan.FromSeconds(90));
        }
        finally
        {
            _server?.Dispose();
            _server = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopServerAsync();
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            // the node is killed below: the beam process is the script's child, found through the pid file
            var pidFile = Path.Combine(_root, "rabbit.pid");
            if (File.Exists(pidFile) && int.TryParse((await File.ReadAllTextAsync(pidFile)).Trim(), out var pid))
            {
                try
                {
                    System.Diagnostics.Process.GetProcessById(pid).Kill();
                }
                catch (ArgumentException)
                {
                    // already gone
                }
            }
        }
    }
}
