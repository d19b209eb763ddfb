namespace ControlPlane.Evidence.Transparency;

/// <summary>
/// Signs a checkpoint every Evidence:Checkpoints:Interval (default 30 s) when the log has grown, so witnesses and
/// readers always find a recent one, and asks the configured witnesses to cosign it; `POST /evidence/checkpoints`
/// signs (and has cosigned) one on demand.
/// </summary>
public sealed partial class CheckpointPublisher(CheckpointLog checkpoints, WitnessClient witnesses, IConfiguration configuration, TimeProvider clock,
    ILogger<CheckpointPublisher> logger) : BackgroundService
{
    private readonly TimeSpan _interval = configuration.GetValue("Evidence:Checkpoints:Interval", TimeSpan.FromSeconds(30));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, clock);
        do
        {
            try
            {
                await witnesses.CosignAsync(await checkpoints.PublishAsync(stoppingToken), stoppingToken);
            }
            catch (LogRewrittenException)
            {
                // Already logged as critical; keep refusing on every tick rather than stopping the service.
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A database that is restarting is a passing outage: the next tick tries again.
                LogFailed(logger, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not sign an evidence checkpoint now ({Reason}); trying again at the next interval")]
    private static partial void LogFailed(ILogger logger, string reason);
}
