using ControlPlane.ServiceDefaults.Data;
using ControlPlane.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ControlPlane.ServiceDefaults.Tests.Data;

/// <summary>The migration runner against a real PostgreSQL: ordered, once, race-free, tamper-detecting.</summary>
public sealed class MigrationTests : IAsyncLifetime
{
    private TestDatabase _database = null!;

    public async ValueTask InitializeAsync() => _database = await TestDatabase.CreateAsync("migrations");

    private DatabaseMigrator Migrator(NpgsqlDataSource dataSource) =>
        new(dataSource, new MigrationSet(typeof(MigrationTests).Assembly), NullLogger<DatabaseMigrator>.Instance);

    [Fact]
    public async Task Shared_then_service_migrations_apply_in_order_and_only_once()
    {
        await using var dataSource = _database.OpenDataSource();
        await Migrator(dataSource).MigrateAsync(TestContext.Current.CancellationToken);
        await Migrator(dataSource).MigrateAsync(TestContext.Current.CancellationToken);

        await using var command = dataSource.CreateCommand("select id from schema_migrations order by applied_at, id");
        var applied = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                applied.Add(reader.GetString(0));
            }
        }

        Assert.Equal(["shared/0001_outbox_inbox", "shared/0002_expect_one_changed_row", "service/0001_widgets", "service/0002_widgets_color"], applied);
    }

    [Fact]
    public async Task Replicas_starting_together_do_not_race()
    {
        await using var dataSource = _database.OpenDataSource();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Migrator(dataSource).MigrateAsync(TestContext.Current.CancellationToken)));

        await using var count = dataSource.CreateCommand("select count(*) from schema_migrations");
        Assert.Equal(4L, await count.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task An_applied_migration_that_was_edited_stops_the_start()
    {
        await using var dataSource = _database.OpenDataSource();
        await Migrator(dataSource).MigrateAsync(TestContext.Current.CancellationToken);
        await using (var tamper = dataSource.CreateCommand("update schema_migrations set checksum = 'edited' where id = 'service/0001_widgets'"))
        {
            await tamper.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Migrator(dataSource).MigrateAsync(TestContext.Current.CancellationToken));
        Assert.Contains("service/0001_widgets was changed after it was applied", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_database_is_created()
    {
        var name = $"cpt_created_{Guid.NewGuid():N}"[..30];
        await using var dataSource = NpgsqlDataSource.Create(TestServers.PostgresConnection(name));
        try
        {
            await Migrator(dataSource).MigrateAsync(TestContext.Current.CancellationToken);
            await using var command = dataSource.CreateCommand("select count(*) from widgets");
            Assert.Equal(0L, await command.ExecuteScalarAsync(TestContext.Current.CancellationToken));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(TestServers.PostgresConnection("postgres"));
            await admin.OpenAsync(TestContext.Current.CancellationToken);
            await using var drop = new NpgsqlCommand($"drop database if exists \"{name}\" with (force)", admin);
            await drop.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync() => await _database.DisposeAsync();
}
