using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace ControlPlane.Testing;

/// <summary>
/// A RabbitMQ virtual host of its own for one test fixture (created and deleted through the management API), so
/// tests never see each other's queues or those of a running ./run.sh.
/// </summary>
public sealed class TestVirtualHost : IAsyncDisposable
{
    private readonly HttpClient _management;

    private TestVirtualHost(string name, HttpClient management)
    {
        Name = name;
        _management = management;
    }

    public string Name { get; }

    /// <summary>The amqp URI with this vhost, as ConnectionStrings:messaging.</summary>
    public string ConnectionString => $"{TestServers.Amqp.TrimEnd('/')}/{Uri.EscapeDataString(Name)}";

    public static async Task<TestVirtualHost> CreateAsync(string purpose)
    {
        var name = $"cpt-{purpose}-{Guid.NewGuid():N}"[..36];
        var management = new HttpClient { BaseAddress = TestServers.RabbitManagement, Timeout = TimeSpan.FromSeconds(15) };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("guest:guest")));
        try
        {
            (await management.PutAsync($"api/vhosts/{Uri.EscapeDataString(name)}", null)).EnsureSuccessStatusCode();
            (await management.PutAsJsonAsync($"api/permissions/{Uri.EscapeDataString(name)}/guest",
                new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();
        }
        catch (HttpRequestException ex)
        {
            management.Dispose();
            throw new InvalidOperationException(
                $"The RabbitMQ management API is not reachable at {TestServers.RabbitManagement} (tests create a vhost each). {TestServers.HowToStart}", ex);
        }

        return new TestVirtualHost(name, management);
    }

    /// <summary>Messages ready in a queue, or null when the queue does not exist.</summary>
    public Task<long?> CountMessagesAsync(string queue) => QueueFigureAsync(queue, "messages");

    /// <summary>Consumers attached to a queue (0 when the queue does not exist).</summary>
    public async Task<int> CountConsumersAsync(string queue) => (int)(await QueueFigureAsync(queue, "consumers") ?? 0);

    /// <summary>One number from the management API's view of a queue: null when the queue does not exist, 0 when not yet counted.</summary>
    private async Task<long?> QueueFigureAsync(string queue, string property)
    {
        using var response = await _management.GetAsync($"api/queues/{Uri.EscapeDataString(Name)}/{Uri.EscapeDataString(queue)}");
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.TryGetProperty(property, out var figure) && figure.ValueKind == JsonValueKind.Number ? figure.GetInt64() : 0;
    }

    /// <summary>Peeks at messages (they stay in the queue): headers and payload of each.</summary>
    public async Task<IReadOnlyList<JsonElement>> PeekAsync(string queue, int count = 10)
    {
        using var response = await _management.PostAsJsonAsync($"api/queues/{Uri.EscapeDataString(Name)}/{Uri.EscapeDataString(queue)}/get",
            new { count, ackmode = "ack_requeue_true", encoding = "auto", truncate = 50000 });
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return [];
        }

        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }

    public async Task<IReadOnlyList<string>> QueueNamesAsync()
    {
        using var response = await _management.GetAsync($"api/queues/{Uri.EscapeDataString(Name)}");
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToList();
    }

    /// <summary>Queues that live only as long as their consumer (MassTransit temporary endpoints: not durable).</summary>
    public async Task<IReadOnlySet<string>> TemporaryQueueNamesAsync()
    {
        using var response = await _management.GetAsync($"api/queues/{Uri.EscapeDataString(Name)}");
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.EnumerateArray().Where(e => !e.GetProperty("durable").GetBoolean())
            .Select(e => e.GetProperty("name").GetString()!).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Every binding in this vhost: source exchange, destination (queue or exchange) and its type.</summary>
    public async Task<IReadOnlyList<(string Source, string Destination, string DestinationType)>> BindingsAsync()
    {
        using var response = await _management.GetAsync($"api/bindings/{Uri.EscapeDataString(Name)}");
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.EnumerateArray()
            .Select(e => (e.GetProperty("source").GetString()!, e.GetProperty("destination").GetString()!, e.GetProperty("destination_type").GetString()!))
            .ToList();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _management.DeleteAsync($"api/vhosts/{Uri.EscapeDataString(Name)}");
        }
        finally
        {
            _management.Dispose();
        }
    }
}
