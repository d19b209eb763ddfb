using System.Net.Sockets;

namespace ControlPlane.Testing;

/// <summary>
/// Where the real servers are for tests (./test.sh starts them; override with CP_TEST_* variables). A test that
/// cannot reach one fails with <see cref="HowToStart"/>; it never skips.
/// </summary>
public static class TestServers
{
    public const string HowToStart = "Start the servers with `eng/servers.sh up` (./test.sh does this for you).";

    public static string PostgresHost { get; } = Env("CP_TEST_POSTGRES", "Host=127.0.0.1;Port=5432;Username=postgres");

    public static string Amqp { get; } = Env("CP_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672");

    public static Uri RabbitManagement { get; } = new(Env("CP_TEST_RABBITMQ_MANAGEMENT", "http://127.0.0.1:15672"));

    public static string Redis { get; } = Env("CP_TEST_REDIS", "127.0.0.1:6379");

    public static string PostgresConnection(string database) => $"{PostgresHost};Database={database}";

    /// <summary>Fails fast, naming the server and the fix, when a port does not answer.</summary>
    public static async Task RequireAsync(string server, string host, int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(host, port).WaitAsync(TimeSpan.FromSeconds(3));
        }
        catch (Exception ex) when (ex is SocketException or TimeoutException)
        {
            throw new InvalidOperationException($"{server} is not reachable at {host}:{port}. {HowToStart}", ex);
        }
    }

    private static string Env(string name, string fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
}
