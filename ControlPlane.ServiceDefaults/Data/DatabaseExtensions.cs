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

        builder.Services.AddSingleton(sp => Configured(DataSourceBuilder(connectionString), sp).Build());
        builder.Services.AddKeyedSingleton(SessionDataSource, (sp, _) => Configured(SessionDataSourceBuilder(connectionString), sp).Build());
        builder.Services.AddSingleton(new MigrationSet(migrationsAssembly));
        builder.Services.AddSingleton<DatabaseMigrator>();
        // Registered before the bus and any worker, so nothing touches tables that do not exist yet.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService, DatabaseMigrationHost>());
        builder.Services.AddHealthChecks().AddReadinessCheck<DatabaseHealthCheck>("database");
        return builder;
    }

    /// <summary>Statements a connection keeps prepared when the connection string does not say (Max Auto Prepare).</summary>
    public const int DefaultMaxAutoPrepare = 128;

    /// <summary>Connections a service's pool opens at most when the connection string does not say (Maximum Pool Size).</summary>
    public const int DefaultMaxPoolSize = 20;

    /// <summary>
    /// A service sends the same few dozen statements all day (inbox, outbox, state, relay), so each connection prepares
    /// the ones it has run five times: PostgreSQL then skips parsing and planning them (Npgsql's automatic preparation,
    /// off unless asked for), a connection is not reset when it returns to the pool, and the pool stays small. A
    /// connection string that sets Max Auto Prepare, No Reset On Close or Maximum Pool Size wins.
    /// </summary>
    public static NpgsqlDataSourceBuilder DataSourceBuilder(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        var written = Written(connectionString);
        if (!written.Contains("MaxAutoPrepare"))
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = DefaultMaxAutoPrepare;
        }

        if (!written.Contains("NoResetOnClose"))
        {
            // Resetting a returned connection costs PostgreSQL seven statements (DISCARD ALL would drop the prepared ones),
            // about half of what a service sends. Work here keeps no session state: its locks are transaction-scoped.
            builder.ConnectionStringBuilder.NoResetOnClose = true;
        }

        if (!written.Contains("MaxPoolSize") && !written.Contains("MaximumPoolSize"))
        {
            // Npgsql's 100 let one burst open a backend per waiting request (orchestrator held 102 at 100/s offered):
            // more backends than cores only queue inside PostgreSQL, at a cost. Requests now queue in the pool instead.
            builder.ConnectionStringBuilder.MaxPoolSize = DefaultMaxPoolSize;
        }

        return builder;
    }

    /// <summary>The keywords a connection string sets, as written without spaces (Npgsql's own ContainsKey answers whether a keyword exists at all).</summary>
    private static HashSet<string> Written(string connectionString) =>
        new DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Select(key => key.Replace(" ", "", StringComparison.Ordinal)).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The key of the second data source, for the few connections that hold session state - the migrator's and the
    /// scheduler's session advisory locks, the outbox relay's LISTEN - so a connection returned with some left over is
    /// reset before anyone else gets it.
    /// </summary>
    public const string SessionDataSource = "session";

    /// <summary>As <see cref="DataSourceBuilder"/>, but every connection is reset when it returns to the pool.</summary>
    public static NpgsqlDataSourceBuilder SessionDataSourceBuilder(string connectionString)
    {
        var builder = DataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.NoResetOnClose = false;
        return builder;
    }

    private static NpgsqlDataSourceBuilder Configured(NpgsqlDataSourceBuilder builder, IServiceProvider services) => builder
        .UseLoggerFactory(services.GetRequiredService<ILoggerFactory>())
        // A query outside any request or message is a poll (outbox relay, timers): as its own root trace every
        // second it would bury the traces an SRE looks for, so only queries that belong to work are traced.
        .ConfigureTracing(tracing => tracing
            .ConfigureCommandFilter(_ => Activity.Current is not null)
            .ConfigureBatchFilter(_ => Activity.Current is not null)
            .EnablePhysicalOpenTracing(false));
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
