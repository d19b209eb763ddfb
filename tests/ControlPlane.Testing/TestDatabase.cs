using Npgsql;

namespace ControlPlane.Testing;

/// <summary>A PostgreSQL database of its own for one test fixture, dropped afterwards.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private TestDatabase(string name) => Name = name;

    public string Name { get; }

    public string ConnectionString => TestServers.PostgresConnection(Name);

    public static async Task<TestDatabase> CreateAsync(string purpose)
    {
        var name = $"cpt_{purpose.Replace('-', '_')}_{Guid.NewGuid():N}"[..40];
        try
        {
            await using var connection = new NpgsqlConnection(TestServers.PostgresConnection("postgres") + ";Pooling=false");
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"create database \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException ex) when (ex is not PostgresException)
        {
            throw new InvalidOperationException($"PostgreSQL is not reachable ({TestServers.PostgresHost}). {TestServers.HowToStart}", ex);
        }

        return new TestDatabase(name);
    }

    public NpgsqlDataSource OpenDataSource() => NpgsqlDataSource.Create(ConnectionString);

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(TestServers.PostgresConnection("postgres") + ";Pooling=false");
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"drop database if exists \"{Name}\" with (force)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
