using ControlPlane.ServiceDefaults.Data;
using ControlPlane.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace ControlPlane.ServiceDefaults.Tests.Data;

/// <summary>
/// Services' work connections are not reset when they return to the pool (no reset statements on the hot path);
/// the session data source's are, so a session lock or LISTEN left on one never reaches the next user.
/// </summary>
public sealed class ConnectionResetTests : IAsyncLifetime
{
    private const long LockKey = 0x5265736574; // "Reset"
    private TestDatabase _database = null!;

    public async ValueTask InitializeAsync() => _database = await TestDatabase.CreateAsync("connreset");

    public async ValueTask DisposeAsync() => await _database.DisposeAsync();

    [Theory]
    [InlineData("Host=127.0.0.1;Database=x", true)]
    [InlineData("Host=127.0.0.1;Database=x;No Reset On Close=false", false)]
    [InlineData("Host=127.0.0.1;Database=x;noresetonclose=false", false)]
    public void The_connection_string_wins_over_the_default(string connectionString, bool expected)
    {
        Assert.Equal(expected, DatabaseExtensions.DataSourceBuilder(connectionString).ConnectionStringBuilder.NoResetOnClose);
        Assert.False(DatabaseExtensions.SessionDataSourceBuilder(connectionString).ConnectionStringBuilder.NoResetOnClose);
    }

    [Fact]
    public async Task A_work_connection_comes_back_from_the_pool_as_it_was_left()
    {
        await using var dataSource = DatabaseExtensions.DataSourceBuilder(OneConnection).Build();

        await SetApplicationNameAsync(dataSource, "left-behind");

        Assert.Equal("left-behind", await ApplicationNameAsync(dataSource));
    }

    [Fact]
    public async Task A_session_connection_is_reset_so_its_session_lock_does_not_outlive_its_use()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var sessions = DatabaseExtensions.SessionDataSourceBuilder(OneConnection).Build();
        await SetApplicationNameAsync(sessions, "left-behind");
        await using (var holder = await sessions.OpenConnectionAsync(cancellationToken))
        await using (var take = new NpgsqlCommand($"select pg_advisory_lock({LockKey})", holder))
        {
            await take.ExecuteNonQueryAsync(cancellationToken); // and returned without unlocking
        }

        Assert.NotEqual("left-behind", await ApplicationNameAsync(sessions));
        await using var other = NpgsqlDataSource.Create(_database.ConnectionString);
        await using var tryLock = other.CreateCommand($"select pg_try_advisory_lock({LockKey})");
        Assert.Equal(true, await tryLock.ExecuteScalarAsync(cancellationToken));
    }

    [Fact]
    public async Task A_service_gets_both_data_sources_and_its_migrator_resolves_with_them()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:test-db"] = _database.ConnectionString });
        builder.AddServiceDatabase("test-db", typeof(ConnectionResetTests).Assembly);
        await using var services = builder.Services.BuildServiceProvider();

        var work = services.GetRequiredService<NpgsqlDataSource>();
        var session = services.GetRequiredKeyedService<NpgsqlDataSource>(DatabaseExtensions.SessionDataSource);

        Assert.True(new NpgsqlConnectionStringBuilder(work.ConnectionString).NoResetOnClose);
        Assert.False(new NpgsqlConnectionStringBuilder(session.ConnectionString).NoResetOnClose);
        // The migrator resolves (its session lock needs the keyed source registered beside the work one).
        Assert.NotNull(services.GetRequiredService<DatabaseMigrator>());
    }

    // One physical connection, so the next open gets the one just returned.
    private string OneConnection => _database.ConnectionString + ";Maximum Pool Size=1";

    private static async Task SetApplicationNameAsync(NpgsqlDataSource dataSource, string name)
    {
        await using var set = dataSource.CreateCommand($"set application_name = '{name}'");
        await set.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    private static async Task<string?> ApplicationNameAsync(NpgsqlDataSource dataSource)
    {
        await using var show = dataSource.CreateCommand("show application_name");
        return (string?)await show.ExecuteScalarAsync(TestContext.Current.CancellationToken);
    }
}
