using System.Data.Common;
using System.Diagnostics;
using System.Reflection;
using ControlPlane.ServiceDefaults.Health;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ControlPlane.ServiceDefaults.Data;

public static class DatabaseExtensions
{
    /// <summary>
    /// One NpgsqlDataSource from ConnectionStrings:&lt;connectionName&gt;, the service's embedded SQL migrations
    /// applied at start under an advisory lock, and a readiness check.
    /// </summary>
    public static TBuilder AddServiceDatabase<TBuilder>(this TBuilder builder, string connectionName, Assembly migrationsAssembly)
        where TBuilder : IHostApplicationBuilder
    {
        var connectionString = builder.Configuration.GetConnectionString(connectionName) ?? throw new InvalidOperationException(
            $"ConnectionStrings:{connectionName} is not set. Set ConnectionStrings__{connectionName}=" +
            $"\"Host=127.0.0.1;Port=5432;Username=postgres;Database={connectionName}\" (the AppHost and ./run.sh set it).");

        builder.Services.AddSingleton(sp => DataSourceBuilder(connectionString)
            .UseLoggerFactory(sp.GetRequiredService<ILoggerFactory>())
            // A query outside any request or message is a poll (outbox relay, timers): as its own root trace every
            // second it would bury the traces an SRE looks for, so only queries that belong to work are traced.
            .ConfigureTracing(tracing => tracing
                .ConfigureCommandFilter(_ => Activity.Current is not null)
                .ConfigureBatchFilter(_ => Activity.Current is not null)
                .EnablePhysicalOpenTracing(false))
            .Build());
        builder.Services.AddSingleton(new MigrationSet(migrationsAssembly));
        builder.Services.AddSingleton<DatabaseMigrator>();
        // Registered before the bus and any worker, so nothing touches tables that do not exist yet.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService, DatabaseMigrationHost>());
        builder.Services.AddHealthChecks().AddReadinessCheck<DatabaseHealthCheck>("database");
        return builder;
    }

    /// <summary>Statements a connection keeps prepared when the connection string does not say (Max Auto Prepare).</summary>
    public const int DefaultMaxAutoPrepare = 128;

    /// <summary>
    /// A service sends the same few dozen statements all day (inbox, outbox, state, relay), so each connection prepares
    /// the ones it has run five times: PostgreSQL then skips parsing and planning them (Npgsql's automatic preparation,
    /// off unless asked for). A connection string that sets Max Auto Prepare, even to 0, wins.
    /// </summary>
    public static NpgsqlDataSourceBuilder DataSourceBuilder(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // Npgsql's own ContainsKey answers whether the keyword exists at all, so read the keys as written.
        var written = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!written.Keys.Cast<string>().Any(key => key.Replace(" ", "", StringComparison.Ordinal).Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = DefaultMaxAutoPrepare;
        }

        return builder;
    }
}

public static class OutboxExtensions
{
    /// <summary>Runs the relay that publishes this service's outbox; needs both AddServiceDatabase and AddControlPlaneBus.</summary>
    public static TBuilder AddOutboxRelay<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHostedService<OutboxRelay>();
        return builder;
    }
}
