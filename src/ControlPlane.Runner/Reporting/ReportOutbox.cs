using System.Diagnostics;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Runner.FleetLink;
using ControlPlane.ServiceDefaults.Telemetry;

namespace ControlPlane.Runner.Reporting;

/// <summary>
/// A signed result or refusal waiting to reach fleet. Id doubles as the HTTP Idempotency-Key; TraceParent is the
/// delivery's trace, which the report continues.
/// </summary>
public sealed record PendingReport(string Id, Guid WorkId, bool IsRefusal, string? Reason, DsseEnvelope Envelope, DateTimeOffset CreatedAt,
    string? TraceParent = null, bool IsAck = false);

/// <summary>
/// Reports are written to the state directory before they are sent and deleted once fleet answered for good, so a
/// result survives fleet being down and the runner restarting. A sender drains them in order with backoff.
/// </summary>
public sealed partial class ReportOutbox : BackgroundService
{
    private const string Folder = "reports";
    private static readonly ActivitySource Source = ControlPlaneTelemetry.CreateSource("Runner");
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private readonly string _directory;
    private readonly FleetClient _fleet;
    private readonly TimeProvider _clock;
    private readonly ILogger<ReportOutbox> _logger;
    private readonly SemaphoreSlim _signal = new(0, 1);

    public ReportOutbox(RunnerOptions options, FleetClient fleet, TimeProvider clock, ILogger<ReportOutbox> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _directory = Path.Combine(options.StateDirectory!, Folder);
        StateFiles.EnsureDirectory(_directory);
        _fleet = fleet;
        _clock = clock;
        _logger = logger;
    }

    public void Enqueue(Guid workId, DsseEnvelope envelope, string? refusalReason, bool isAck = false)
    {
        var now = _clock.GetUtcNow();
        // Sortable names keep the sending order; the random part keeps two reports of one work id apart.
        var id = $"{now.UtcTicks:D20}-{workId:N}-{Guid.NewGuid():N}";
        var report = new PendingReport(id, workId, refusalReason is not null, refusalReason, envelope, now, TraceContinuation.Capture(), isAck);
        StateFiles.WriteAtomically(Path.Combine(_directory, id + ".json"), JsonSerializer.Serialize(report, ContractJson.Options));
        Wake();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            var retry = false;
            try
            {
                foreach (var path in Directory.EnumerateFiles(_directory, "*.json").Order(StringComparer.Ordinal))
                {
                    if (!await SendAsync(path, stoppingToken))
                    {
                        retry = true;
                        break; // keep the order: later reports wait for this one
                    }
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogRoundFailed(_logger, ex);
                retry = true;
            }

            backoff = retry ? TimeSpan.FromMilliseconds(Math.Clamp(backoff.TotalMilliseconds * 2, 500, MaxBackoff.TotalMilliseconds)) : TimeSpan.Zero;
            try
            {
                await _signal.WaitAsync(retry ? backoff : Timeout.InfiniteTimeSpan, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>False when the report must be tried again later.</summary>
    private async Task<bool> SendAsync(string path, CancellationToken ct)
    {
        PendingReport? report;
        try
        {
            report = JsonSerializer.Deserialize<PendingReport>(await File.ReadAllTextAsync(path, ct), ContractJson.Options);
        }
        catch (JsonException ex)
        {
            LogUnreadable(_logger, ex, path);
            File.Delete(path);
            return true;
        }

        if (report is null)
        {
            File.Delete(path);
            return true;
        }

        using var span = TraceContinuation.Start(Source, "runner report", report.TraceParent, ActivityKind.Producer);
        var (delivery, answer) = await _fleet.ReportAsync(report, ct);
        switch (delivery)
        {
            case ReportDelivery.Delivered:
                LogDelivered(_logger, Kind(report), report.WorkId);
                File.Delete(path);
                return true;
            case ReportDelivery.Rejected:
                LogRejected(_logger, Kind(report), report.WorkId, (int)answer!.Status, answer.Detail);
                File.Delete(path);
                return true;
            default:
                LogRetry(_logger, report.WorkId, answer?.Detail ?? answer?.Status.ToString() ?? "no answer");
                return false;
        }
    }

    private static string Kind(PendingReport report) => report.IsAck ? "acknowledgement" : report.IsRefusal ? "refusal" : "result";

    private void Wake()
    {
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // already woken
            }
        }
    }

    public override void Dispose()
    {
        _signal.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fleet recorded the {Kind} of work {WorkId}")]
    private static partial void LogDelivered(ILogger logger, string kind, Guid workId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet rejected the {Kind} of work {WorkId} ({Status}): {Detail}")]
    private static partial void LogRejected(ILogger logger, string kind, Guid workId, int status, string? detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reporting work {WorkId} to fleet failed ({Detail}); retrying")]
    private static partial void LogRetry(ILogger logger, Guid workId, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending reports to fleet failed; retrying")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Dropping unreadable report file {Path}")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string path);
}
