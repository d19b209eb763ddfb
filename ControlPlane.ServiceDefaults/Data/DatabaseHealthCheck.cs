using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace ControlPlane.ServiceDefaults.Data;

public sealed class DatabaseHealthCheck(NpgsqlDataSource dataSource, DatabaseMigrator migrator) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!migrator.Completed)
        {
            return HealthCheckResult.Unhealthy("migrations have not been applied yet");
        }

        try
        {
            await using var command = dataSource.CreateCommand("select 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            return HealthCheckResult.Unhealthy("database unreachable");
        }
    }
}
