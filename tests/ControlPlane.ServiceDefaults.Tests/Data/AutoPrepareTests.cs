using ControlPlane.ServiceDefaults.Data;
using ControlPlane.Testing;

namespace ControlPlane.ServiceDefaults.Tests.Data;

/// <summary>Services' connections prepare the statements they repeat, unless the connection string says otherwise.</summary>
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
