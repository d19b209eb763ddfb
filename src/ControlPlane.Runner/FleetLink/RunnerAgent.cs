using System.Net;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Messaging;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ControlPlane.Runner.FleetLink;

/// <summary>
/// Registers with fleet under the runner's own identity (retrying with backoff until fleet and identity are up),
/// then heartbeats; registers again when fleet no longer knows it (removed, or fleet-db rebuilt).
/// </summary>
public sealed partial class RunnerAgent(FleetClient fleet, RunnerKey key, RunnerAgreementKey agreementKey, RunnerOptions options, ILogger<RunnerAgent> logger)
    : BackgroundService, IHealthCheck
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private volatile bool _registered;

    public RunnerRegistration Registration { get; } =
        new(options.Id, options.Fleet, RunnerConfiguration.Capabilities(options), key.PublicKey, key.KeyId, agreementKey.PublicKey);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RegisterAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(options.HeartbeatInterval, stoppingToken);
                try
                {
                    var answer = await fleet.HeartbeatAsync(options.Id, stoppingToken);
                    if (answer.Status == HttpStatusCode.NotFound)
                    {
                        _registered = false;
                        await RegisterAsync(stoppingToken);
                    }
                    else if (!answer.IsSuccess)
                    {
                        LogHeartbeatFailed(logger, (int)answer.Status, answer.Detail);
                    }
                }
                catch (Exception ex) when (TransientFaults.IsTransient(ex) && !stoppingToken.IsCancellationRequested)
                {
                    LogHeartbeatFailed(logger, 0, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    private async Task RegisterAsync(CancellationToken ct)
    {
        var backoff = TimeSpan.FromMilliseconds(500);
        while (true)
        {
            string problem;
            try
            {
                var answer = await fleet.RegisterAsync(Registration, ct);
                if (answer.IsSuccess)
                {
                    _registered = true;
                    LogRegistered(logger, options.Id, options.Fleet, string.Join(", ", Registration.Capabilities), key.KeyId);
                    return;
                }

                problem = $"{(int)answer.Status} {answer.Detail}";
            }
            catch (Exception ex) when (TransientFaults.IsTransient(ex) && !ct.IsCancellationRequested)
            {
                // identity or fleet slow or away (an attempt timeout is Polly's TimeoutRejectedException, not an
                // HttpRequestException): a passing outage, never a reason to stop the runner
                problem = ex.Message;
            }

            LogRegistrationFailed(logger, problem, backoff.TotalSeconds);
            await Task.Delay(backoff, ct);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    /// <summary>Readiness: the runner is ready once fleet accepted its registration.</summary>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_registered ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("not registered with fleet yet"));

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered runner {RunnerId} in fleet {Fleet} for {Capabilities} with key {KeyId}")]
    private static partial void LogRegistered(ILogger logger, string runnerId, string fleet, string capabilities, string keyId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registration with fleet failed ({Problem}); retrying in {DelaySeconds} s")]
    private static partial void LogRegistrationFailed(ILogger logger, string problem, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat failed ({Status}): {Detail}")]
    private static partial void LogHeartbeatFailed(ILogger logger, int status, string? detail);
}
