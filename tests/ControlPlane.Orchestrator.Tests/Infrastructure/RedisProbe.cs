using ControlPlane.Testing;
using StackExchange.Redis;

namespace ControlPlane.Orchestrator.Tests.Infrastructure;

/// <summary>Looks at the real Redis directly (keys as the service writes them, with its prefix).</summary>
public static class RedisProbe
{
    private static readonly Lazy<ConnectionMultiplexer> Connection = new(() => ConnectionMultiplexer.Connect(TestServers.Redis));

    public static async Task<bool> ExistsAsync(string key) => await Connection.Value.GetDatabase().KeyExistsAsync(key);

    public static async Task<string?> GetAsync(string key) => await Connection.Value.GetDatabase().StringGetAsync(key);
}
