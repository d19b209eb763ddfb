using ControlPlane.Fleet.Credentials;
using ControlPlane.Fleet.Runners;
using ControlPlane.ServiceDefaults.Data;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Fleet.Work;

/// <summary>
/// Fleet's timers (no delayed-message plugin: they live in PostgreSQL): runners silent past the heartbeat timeout
/// (their accepted work closed as timed out), pending work re-offered until its deadline, packages nobody accepted
/// within the ack timeout offered again, issued packages expired without a result, package credentials past their
/// expiry revoked. Replicas share the work
/// through row locks (skip locked).
/// </summary>
public sealed partial class FleetPoller(
    NpgsqlDataSource dataSource, RunnerRegistry registry, WorkDispatcher dispatcher, WorkSignal signal, DatabaseMigrator migrator,
    TimeProvider clock, IOptions<FleetOptions> options, ILogger<FleetPoller> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!migrator.Completed && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(200, stoppingToken);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRoundFailed(logger, ex);
            }

            await signal.WaitAsync(options.Value.PollInterval, stoppingToken);
        }
    }

    public async Task RunOnceAsync(CancellationToken ct)
    {
        await registry.MarkSilentAsync(ct);
        await using (var work = await UnitOfWork.BeginAsync(dataSource, ct))
        {
            await dispatcher.PlacePendingAsync(work, clock.GetUtcNow(), ct);
            await work.CommitAsync(ct);
        }

        await using (var work = await UnitOfWork.BeginAsync(dataSource, ct))
        {
            await dispatcher.ReofferUnacknowledgedAsync(work, clock.GetUtcNow(), ct);
            await work.CommitAsync(ct);
        }

        await using (var work = await UnitOfWork.BeginAsync(dataSource, ct))
        {
            await dispatcher.CloseSilentAsync(work, clock.GetUtcNow(), ct);
            await dispatcher.ExpireAsync(work, clock.GetUtcNow(), ct);
            await CredentialStore.RevokeExpiredAsync(work, clock.GetUtcNow(), ct);
            await work.CommitAsync(ct);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet poller round failed; retrying next interval")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
