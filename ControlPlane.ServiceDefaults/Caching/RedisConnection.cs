using StackExchange.Redis;
using StackExchange.Redis.KeyspaceIsolation;

namespace ControlPlane.ServiceDefaults.Caching;

/// <summary>
/// The one place that knows StackExchange.Redis connection management (1.2.6 today, because 2.x's dependencies
/// are not served here). Services get an <see cref="IDatabase"/> whose keys carry this deployment's prefix, and
/// treat any Redis exception as "no": no lease, no slot, no token (fail closed).
/// </summary>
public sealed class RedisConnection : IDisposable
{
    private readonly Lazy<ConnectionMultiplexer> _multiplexer;
    private readonly string _keyPrefix;

    public RedisConnection(string connectionString, string keyPrefix)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false; // start without Redis and reconnect in the background
        options.ConnectTimeout = Math.Min(options.ConnectTimeout, 3000);
        options.SyncTimeout = Math.Min(options.SyncTimeout, 3000);
        options.ConnectRetry = Math.Max(options.ConnectRetry, 1);
        _keyPrefix = keyPrefix;
        _multiplexer = new Lazy<ConnectionMultiplexer>(() => ConnectionMultiplexer.Connect(options));
    }

    public bool IsConnected => _multiplexer.IsValueCreated && _multiplexer.Value.IsConnected;

    public IDatabase GetDatabase()
    {
        var database = _multiplexer.Value.GetDatabase();
        return _keyPrefix.Length == 0 ? database : database.WithKeyPrefix(_keyPrefix);
    }

    public async Task<TimeSpan> PingAsync() => await _multiplexer.Value.GetDatabase().PingAsync();

    public void Dispose()
    {
        if (_multiplexer.IsValueCreated)
        {
            _multiplexer.Value.Dispose();
        }
    }
}
