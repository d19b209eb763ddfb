using ControlPlane.ServiceDefaults.Data;
using ControlPlane.Testing;

namespace ControlPlane.ServiceDefaults.Tests.Data;

/// <summary>Services' connections prepare the statements they repeat and come from a small pool, unless the connection string says otherwise.</summary>
public sealed class AutoPrepareTests : IAsyncLifetime
{
    private TestDatabase _database = null!;

    public async ValueTask InitializeAsync() => _database = await TestDatabase.CreateAsync("autoprepare");

    public async ValueTask DisposeAsync() => await _database.DisposeAsync();

    [Theory]
    [InlineData("Host=127.0.0.1;Database=x", DatabaseExtensions.DefaultMaxAutoPrepare)]
    [InlineData("Host=127.0.0.1;Database=x;Max Auto Prepare=0", 0)]
    [InlineData("Host=127.0.0.1;Database=x;max auto prepare=7", 7)]
    [InlineData("Host=127.0.0.1;Database=x;MaxAutoPrepare=9", 9)]
    public void The_connection_string_wins_over_the_default(string connectionString, int expected) =>
        Assert.Equal(expected, DatabaseExtensions.DataSourceBuilder(connectionString).ConnectionStringBuilder.MaxAutoPrepare);

    [Theory]
    [InlineData("Host=127.0.0.1;Database=x", DatabaseExtensions.DefaultMaxPoolSize)]
    [InlineData("Host=127.0.0.1;Database=x;Maximum Pool Size=50", 50)]
    [InlineData("Host=127.0.0.1;Database=x;maximum pool size=7", 7)]
    [InlineData("Host=127.0.0.1;Database=x;MaxPoolSize=100", 100)]
    public void The_pool_size_of_the_connection_string_wins_over_the_default(string connectionString, int expected) =>
        Assert.Equal(expected, DatabaseExtensions.DataSourceBuilder(connectionString).ConnectionStringBuilder.MaxPoolSize);

    [Fact]
    public async Task A_request_for_a_connection_beyond_the_pool_waits_and_then_fails_as_a_passing_outage()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var dataSource = DatabaseExtensions.DataSourceBuilder(_database.ConnectionString + ";Timeout=1").Build();
        var held = new List<Npgsql.NpgsqlConnection>();
        try
        {
            for (var i = 0; i < DatabaseExtensions.DefaultMaxPoolSize; i++)
            {
                held.Add(await dataSource.OpenConnectionAsync(cancellationToken));
            }

            var exhausted = await Assert.ThrowsAsync<Npgsql.NpgsqlException>(async () => await dataSource.OpenConnectionAsync(cancellationToken));
            Assert.True(ControlPlane.ServiceDefaults.Messaging.TransientFaults.IsTransient(exhausted)); // retried, or 503 over HTTP

            await held[0].DisposeAsync(); // one back: the next caller gets it
            held.RemoveAt(0);
            await using var next = await dataSource.OpenConnectionAsync(cancellationToken);
            Assert.Equal(System.Data.ConnectionState.Open, next.State);
        }
        finally
        {
            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_statement_run_five_times_is_prepared_on_the_server()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var dataSource = DatabaseExtensions.DataSourceBuilder(_database.ConnectionString).Build();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        for (var i = 0; i < 6; i++)
        {
            await using var repeated = new Npgsql.NpgsqlCommand("select $1::int + 1", connection) { Parameters = { new() { Value = i } } };
            Assert.Equal(i + 1, await repeated.ExecuteScalarAsync(cancellationToken));
        }

        await using var prepared = new Npgsql.NpgsqlCommand("select count(*) from pg_prepared_statements where statement = 'select $1::int + 1'", connection);
        Assert.Equal(1L, await prepared.ExecuteScalarAsync(cancellationToken));
    }
}
