using System.Collections.Concurrent;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace ControlPlane.ServiceDefaults.Tests.Messaging;

public sealed record StoreSomething(Guid Id);

/// <summary>Needs PostgreSQL for every message, reached through the test's TCP proxy.</summary>
public sealed class DatabaseBoundConsumer(DatabaseBoundConsumer.Target target) : IConsumer<StoreSomething>
{
    public sealed record Target(string ConnectionString);

    public static readonly ConcurrentDictionary<Guid, int> Attempts = new();
    public static readonly ConcurrentDictionary<Guid, bool> Handled = new();

    public async Task Consume(ConsumeContext<StoreSomething> context)
    {
        Attempts.AddOrUpdate(context.Message.Id, 1, (_, n) => n + 1);
        await using var connection = new NpgsqlConnection(target.ConnectionString);
        await connection.OpenAsync(context.CancellationToken);
        await using var command = new NpgsqlCommand("select 1", connection);
        await command.ExecuteScalarAsync(context.CancellationToken);
        Handled[context.Message.Id] = true;
    }
}

/// <summary>A consumer whose database is down waits for it (long backoff) instead of sending the message to _error.</summary>
public sealed class TransientRetryTests : IAsyncLifetime
{
    private TestVirtualHost _vhost = null!;
    private TcpProxy _proxy = null!;
    private IHost _host = null!;

    public async ValueTask InitializeAsync()
    {
        var postgres = new NpgsqlConnectionStringBuilder(TestServers.PostgresHost);
        await TestServers.RequireAsync("PostgreSQL", postgres.Host!, postgres.Port);
        _proxy = new TcpProxy(postgres.Host!, postgres.Port);
        _proxy.Start();
        postgres.Host = "127.0.0.1";
        postgres.Port = _proxy.Port;
        postgres.Database = "postgres";
        postgres.Pooling = false;
        postgres.Timeout = 3;

        _vhost = await TestVirtualHost.CreateAsync("transient");
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new PlaneSettings(_vhost, PlaneSettings.NewRedisPrefix())
            .Set("Messaging:Retry:Transient:Limit", "30")
            .Set("Messaging:Retry:Transient:MinInterval", "00:00:00.200")
            .Set("Messaging:Retry:Transient:MaxInterval", "00:00:01")
            .Build());
        builder.Services.AddSingleton(new DatabaseBoundConsumer.Target(postgres.ConnectionString));
        builder.AddControlPlaneBus(x => x.AddConsumer<DatabaseBoundConsumer>());
        _host = builder.Build();
        await _host.StartAsync();
        await _host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_message_that_meets_a_database_outage_is_handled_once_the_database_is_back_not_sent_to_error()
    {
        _proxy.Stop(); // connection refused, like PostgreSQL restarting
        var id = Guid.NewGuid();
        await _host.Services.GetRequiredService<IBus>().Publish(new StoreSomething(id));

        // Longer than the quick budget (1 + 2 retries of at most 200 ms): a plain retry policy would have given up.
        await Eventually.UntilAsync(() => Task.FromResult(DatabaseBoundConsumer.Attempts.GetValueOrDefault(id) >= 5), TimeSpan.FromSeconds(30),
            "five attempts while PostgreSQL is unreachable");
        Assert.False(DatabaseBoundConsumer.Handled.ContainsKey(id));
        Assert.Equal(0L, await _vhost.CountMessagesAsync("database-bound_error") ?? 0);

        _proxy.Start();
        await Eventually.UntilAsync(() => Task.FromResult(DatabaseBoundConsumer.Handled.ContainsKey(id)), TimeSpan.FromSeconds(30),
            "the message handled once PostgreSQL is reachable again");
        Assert.Equal(0L, await _vhost.CountMessagesAsync("database-bound_error") ?? 0);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _vhost.DisposeAsync();
        await _proxy.DisposeAsync();
    }
}
