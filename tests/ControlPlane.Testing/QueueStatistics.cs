using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ControlPlane.Testing;

public static class QueueStatistics
{
    /// <summary>
    /// How many deliveries consumers of a queue have acknowledged so far (RabbitMQ management statistics, refreshed
    /// every few seconds): waiting until it reaches N proves N deliveries were handled, not merely taken off the queue.
    /// </summary>
    public static async Task<long> AcknowledgedAsync(this TestVirtualHost vhost, string queue)
    {
        ArgumentNullException.ThrowIfNull(vhost);
        using var management = new HttpClient { BaseAddress = TestServers.RabbitManagement, Timeout = TimeSpan.FromSeconds(15) };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("guest:guest")));
        using var response = await management.GetAsync($"api/queues/{Uri.EscapeDataString(vhost.Name)}/{Uri.EscapeDataString(queue)}");
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return 0;
        }

        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.TryGetProperty("message_stats", out var stats) && stats.TryGetProperty("ack", out var ack) ? ack.GetInt64() : 0;
    }
}
