using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Orchestrator.Itsm;

/// <summary>
/// Every <see cref="ServiceNowOptions.PollInterval"/>: catches up change requests an outage left behind (not yet
/// created, or not yet moved on), then reads approvals from ServiceNow. A failed round is logged and tried again
/// next round; it never fails or blocks a proposal.
/// </summary>
public sealed partial class ServiceNowPoller(IOptions<ServiceNowOptions> options, NpgsqlDataSource dataSource, ChangeRequestSync sync,
    ServiceNowApprovals approvals, TimeProvider clock, ILogger<ServiceNowPoller> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.PollInterval, clock);
        do
        {
            await RoundAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task RoundAsync(CancellationToken ct)
    {
        try
        {
            foreach (var proposalId in await ChangeRequestStore.UnsettledAsync(dataSource, ct))
            {
                await sync.ReconcileAsync(proposalId, ct);
            }

            await approvals.PollAsync(ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            LogRoundFailed(logger, ex.GetType().Name, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ServiceNow round incomplete ({Error}: {Message}); next round retries")]
    private static partial void LogRoundFailed(ILogger logger, string error, string message);
}
