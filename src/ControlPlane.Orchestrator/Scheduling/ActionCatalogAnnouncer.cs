using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Data;
using Npgsql;

namespace ControlPlane.Orchestrator.Scheduling;

/// <summary>
/// Announces the action catalog (ActionCatalogPublished) once per start through the outbox, so policy's autonomy
/// report can tell which proposals a fleet can actually execute, and evidence records which mapping was in force.
/// </summary>
public sealed partial class ActionCatalogAnnouncer(NpgsqlDataSource dataSource, ActionCatalog catalog, DatabaseMigrator migrator,
    TimeProvider clock, ILogger<ActionCatalogAnnouncer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!migrator.Completed)
        {
            await Task.Delay(200, stoppingToken);
        }

        var routes = catalog.Routes();
        await using var work = await UnitOfWork.BeginAsync(dataSource, stoppingToken);
        await work.EnqueueAsync(new ActionCatalogPublished(routes, "orchestrator", clock.GetUtcNow()), stoppingToken);
        await work.CommitAsync(stoppingToken);
        LogAnnounced(logger, routes.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Announced the action catalog ({Routes} routes)")]
    private static partial void LogAnnounced(ILogger logger, int routes);
}
