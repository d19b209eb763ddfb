using ControlPlane.ServiceDefaults.Health;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace ControlPlane.ServiceDefaults.Caching;

public static class RedisExtensions
{
    /// <summary>One multiplexer from ConnectionStrings:&lt;name&gt; (host:port[,password=…]); keys prefixed by Cache:KeyPrefix.</summary>
    public static TBuilder AddRedisCache<TBuilder>(this TBuilder builder, string connectionName = "cache")
        where TBuilder : IHostApplicationBuilder
    {
        var connectionString = builder.Configuration.GetConnectionString(connectionName) ?? throw new InvalidOperationException(
            $"ConnectionStrings:{connectionName} is not set. Set ConnectionStrings__{connectionName}=127.0.0.1:6379 (the AppHost and ./run.sh set it).");
        var prefix = builder.Configuration["Cache:KeyPrefix"] ?? "cp:";
        builder.Services.AddSingleton(new RedisConnection(connectionString, prefix));
        builder.Services.AddHealthChecks().AddReadinessCheck<RedisHealthCheck>("cache");
        return builder;
    }
}

public sealed class RedisHealthCheck(RedisConnection redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.PingAsync().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            return HealthCheckResult.Healthy($"ping {latency.TotalMilliseconds:0.0} ms");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("redis unreachable");
        }
    }
}
