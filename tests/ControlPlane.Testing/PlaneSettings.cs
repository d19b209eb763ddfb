namespace ControlPlane.Testing;

/// <summary>
/// The configuration keys the AppHost and ./run.sh inject, built for a test: its own database, vhost and Redis
/// key prefix, quick bus retries, and where identity is.
/// </summary>
public sealed class PlaneSettings
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.OrdinalIgnoreCase);

    public PlaneSettings(TestVirtualHost vhost, string redisPrefix)
    {
        _values["ConnectionStrings:messaging"] = vhost.ConnectionString;
        _values["ConnectionStrings:cache"] = TestServers.Redis;
        _values["Cache:KeyPrefix"] = redisPrefix;
        _values["Messaging:Retry:Limit"] = "2";
        _values["Messaging:Retry:MinInterval"] = "00:00:00.050";
        _values["Messaging:Retry:MaxInterval"] = "00:00:00.200";
        _values["Database:StartupTimeout"] = "00:00:20";
    }

    public PlaneSettings Database(string connectionName, string connectionString) => Set($"ConnectionStrings:{connectionName}", connectionString);

    public PlaneSettings Service(string name, Uri address) => Set($"services:{name}:http:0", address.ToString().TrimEnd('/'));

    public PlaneSettings Set(string key, string? value)
    {
        _values[key] = value;
        return this;
    }

    public IReadOnlyDictionary<string, string?> Build() => new Dictionary<string, string?>(_values, StringComparer.OrdinalIgnoreCase);

    public static string NewRedisPrefix() => $"cpt:{Guid.NewGuid():N}:";
}
