using ControlPlane.Identity.Tokens;
using ControlPlane.ServiceDefaults.Data;

namespace ControlPlane.Identity.Keys;

/// <summary>
/// Rotates the signing key every Identity:KeyRotationInterval: checks every Identity:KeyRotationCheckInterval,
/// publishes the next key ahead (Identity:KeyPublishLead), then promotes it. Every replica runs it; the store's
/// advisory lock makes one of them act.
/// </summary>
public sealed partial class KeyRotationService(SigningKeyStore keys, TokenSettings settings, DatabaseMigrator migrator, ILogger<KeyRotationService> logger)
    : BackgroundService
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
                var step = await keys.RotateIfDueAsync(stoppingToken);
                if (step != KeyScheduleStep.Nothing)
                {
                    LogRotationStep(logger, step);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // The active key keeps signing; the next check tries again.
                LogRotationFailed(logger, ex);
            }

            await Task.Delay(settings.KeyRotationCheckInterval, stoppingToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduled signing-key rotation: {Step}")]
    private static partial void LogRotationStep(ILogger logger, KeyScheduleStep step);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scheduled signing-key rotation check failed; retrying at the next check")]
    private static partial void LogRotationFailed(ILogger logger, Exception exception);
}
