using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ControlPlane.ServiceDefaults.Data;

/// <summary>
/// Applies a service's migrations once: creates the database when missing, takes a PostgreSQL advisory lock so
/// replicas starting together do not race, records each migration in schema_migrations with its checksum, and
/// refuses to start when an applied migration was edited afterwards.
/// </summary>
public sealed partial class DatabaseMigrator(
    [FromKeyedServices(DatabaseExtensions.SessionDataSource)] NpgsqlDataSource dataSource, // holds a session lock
    MigrationSet migrations,
    ILogger<DatabaseMigrator> logger)
{
    // Any constant works; it only has to be the same for every replica of every service.
    private const long AdvisoryLockKey = 0x436F6E74726F6C50; // "ControlP"

    private volatile bool _completed;

    public bool Completed => _completed;

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await EnsureDatabaseExistsAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await Execute(connection, $"select pg_advisory_lock({AdvisoryLockKey})", cancellationToken);
        try
        {
            await Execute(connection, """
                create table if not exists schema_migrations (
                    id text primary key,
                    checksum text not null,
                    applied_at timestamptz not null default now())
                """, cancellationToken);

            var applied = new Dictionary<string, string>(StringComparer.Ordinal);
            await using (var read = new NpgsqlCommand("select id, checksum from schema_migrations", connection))
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied[reader.GetString(0)] = reader.GetString(1);
                }
            }

            foreach (var migration in migrations.Load())
            {
                if (applied.TryGetValue(migration.Id, out var checksum))
                {
                    if (checksum != migration.Checksum)
                    {
                        throw new InvalidOperationException(
                            $"Migration {migration.Id} was changed after it was applied (checksum {checksum} in the database, " +
                            $"{migration.Checksum} in the build). Add a new migration instead of editing an applied one.");
                    }

                    continue;
                }

                await using var tx = await connection.BeginTransactionAsync(cancellationToken);
                await using (var apply = new NpgsqlCommand(migration.Sql, connection, tx))
                {
                    await apply.ExecuteNonQueryAsync(cancellationToken);
                }

                await using (var record = new NpgsqlCommand("insert into schema_migrations (id, checksum) values ($1, $2)", connection, tx))
                {
                    record.Parameters.Add(new() { Value = migration.Id });
                    record.Parameters.Add(new() { Value = migration.Checksum });
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await tx.CommitAsync(cancellationToken);
                LogApplied(logger, migration.Id, connection.Database);
            }
        }
        finally
        {
            await Execute(connection, $"select pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None);
        }

        _completed = true;
    }

    /// <summary>Creates the service's database through the maintenance database when it does not exist yet.</summary>
    private async Task EnsureDatabaseExistsAsync(CancellationToken cancellationToken)
    {
        var target = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        var name = target.Database;
        if (string.IsNullOrEmpty(name))
        {
            return;
        }

        try
        {
            await using var probe = await dataSource.OpenConnectionAsync(cancellationToken);
            return;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            // fall through and create it
        }

        var maintenance = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(maintenance.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        try
        {
            await Execute(connection, $"create database \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", cancellationToken);
            LogCreated(logger, name);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            // another replica created it first
        }
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {MigrationId} to {Database}")]
    private static partial void LogApplied(ILogger logger, string migrationId, string database);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created database {Database}")]
    private static partial void LogCreated(ILogger logger, string database);
}

/// <summary>
/// Runs the migrator before the rest of the host starts. A database that is not reachable yet is retried
/// (PostgreSQL often starts after the service under an orchestrator) until the startup deadline, then the
/// host fails with the reason.
/// </summary>
public sealed partial class DatabaseMigrationHost(DatabaseMigrator migrator, ILogger<DatabaseMigrationHost> logger,
    Microsoft.Extensions.Configuration.IConfiguration configuration) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + (TimeSpan.TryParse(configuration["Database:StartupTimeout"], System.Globalization.CultureInfo.InvariantCulture, out var t) ? t : TimeSpan.FromSeconds(60));
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                await migrator.MigrateAsync(cancellationToken);
                return;
            }
            catch (Exception ex) when (IsTransient(ex) && DateTimeOffset.UtcNow < deadline)
            {
                LogWaiting(logger, ex.Message, delay.TotalMilliseconds);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static bool IsTransient(Exception ex) =>
        ex is NpgsqlException { IsTransient: true } or TimeoutException or System.Net.Sockets.SocketException ||
        (ex is NpgsqlException && ex.InnerException is System.Net.Sockets.SocketException or TimeoutException or IOException) ||
        ex is PostgresException { SqlState: PostgresErrorCodes.CannotConnectNow };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database not reachable yet ({Reason}); retrying in {DelayMs} ms")]
    private static partial void LogWaiting(ILogger logger, string reason, double delayMs);
}
