using System.Diagnostics.Metrics;
using ControlPlane.Contracts.Evidence;
using ControlPlane.ServiceDefaults.Telemetry;

namespace ControlPlane.Evidence.Autonomy;

/// <summary>
/// The autonomy figures of the last 24 h as OpenTelemetry instruments (meter ControlPlane.Evidence), so the Aspire
/// dashboard shows what GET /metrics/autonomy serves. Observable instruments read a snapshot this service refreshes
/// every Evidence:AutonomyMetricsInterval (default 30 s), or less often when a refresh grows costly
/// (<see cref="RefreshPacing"/>): a scrape never queries the database.
/// </summary>
public sealed partial class AutonomyMeter : BackgroundService
{
    private readonly Meter _meter;
    private readonly AutonomyStore _store;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _interval;
    private readonly ILogger<AutonomyMeter> _logger;
    private volatile AutonomyMetrics? _snapshot;
    private long _snapshotAtTicks;
    private bool _stretched;

    public AutonomyMeter(AutonomyStore store, TimeProvider clock, IConfiguration configuration, IMeterFactory meters, ILogger<AutonomyMeter> logger)
    {
        ArgumentNullException.ThrowIfNull(meters);
        // From the factory, so each host (tests run several) observes only its own snapshot.
        _meter = meters.Create(ControlPlaneTelemetry.SourcePrefix + "Evidence");
        _store = store;
        _clock = clock;
        _logger = logger;
        _interval = configuration.GetValue("Evidence:AutonomyMetricsInterval", TimeSpan.FromSeconds(30));
        _meter.CreateObservableGauge("controlplane.autonomy.proposals", ObserveTotals, "{proposal}",
            "Governed actions submitted in the last 24 h, by outcome (completed, completed-unattended, failed, rolled-back, rejected, denied, cancelled, expired, awaiting-approval, in-flight)");
        _meter.CreateObservableGauge("controlplane.autonomy.rate", ObserveAutonomyRate, "1",
            "Share of completed governed actions (last 24 h) that completed with no human: completed unattended / completed; per environment and overall");
        _meter.CreateObservableGauge("controlplane.autonomy.change_failure_rate", () => Rate(s => s.ChangeFailureRate), "1",
            "Executed governed actions (last 24 h) whose verification failed or that were rolled back / executed");
        _meter.CreateObservableGauge("controlplane.autonomy.rollback_rate", () => Rate(s => s.RollbackRate), "1",
            "Executed governed actions (last 24 h) that were rolled back / executed");
        _meter.CreateObservableGauge("controlplane.autonomy.time_to_complete", () => Percentiles(s => s.TimeToComplete), "ms",
            "Submission to completion of completed governed actions (last 24 h), p50 and p95");
        _meter.CreateObservableGauge("controlplane.approvals.waiting", () => Count(s => s.Approvals.Waiting), "{proposal}",
            "Proposals awaiting a human decision now");
        _meter.CreateObservableGauge("controlplane.approvals.oldest_wait", ObserveOldestWait, "s",
            "Age of the oldest proposal awaiting a human decision");
        _meter.CreateObservableGauge("controlplane.approvals.latency", () => Percentiles(s => s.Approvals.Latency), "ms",
            "From awaiting-approval to a human's decision (last 24 h), p50 and p95");
        _meter.CreateObservableGauge("controlplane.autonomy.denied_bursts", () => Count(s => s.DeniedBursts.Count), "{agent}",
            "Agents with 5 or more policy denials within 10 minutes (last 24 h)");
        _meter.CreateObservableGauge("controlplane.autonomy.snapshot_age", ObserveSnapshotAge, "s",
            "Age of the figures the other controlplane.autonomy and controlplane.approvals instruments show");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = _clock.GetTimestamp();
            TimeSpan? took = null;
            try
            {
                var now = _clock.GetUtcNow();
                _snapshot = await _store.ComputeAsync(new AutonomyFilter(now.AddHours(-24), now), stoppingToken);
                Interlocked.Exchange(ref _snapshotAtTicks, now.UtcTicks);
                took = _clock.GetElapsedTime(started);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Keep the last snapshot; a database outage shows up in health, not as a crash of the meter.
                LogRefreshFailed(_logger, ex.GetType().Name);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            var wait = RefreshPacing.NextWait(_interval, took);
            if (took is { } cost && wait > _interval && !_stretched)
            {
                LogRefreshStretched(_logger, (long)cost.TotalMilliseconds, (long)wait.TotalSeconds, RefreshPacing.CostShare);
            }

            _stretched = wait > _interval;
            try
            {
                await Task.Delay(wait, _clock, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveSnapshotAge()
    {
        var at = Interlocked.Read(ref _snapshotAtTicks);
        return at == 0 ? [] : [new Measurement<double>(Math.Max(0, (_clock.GetUtcNow().UtcTicks - at) / (double)TimeSpan.TicksPerSecond))];
    }

    private IEnumerable<Measurement<long>> ObserveTotals()
    {
        if (_snapshot is not { Totals: var t })
        {
            return [];
        }

        return new (string Outcome, int Count)[]
        {
            ("completed", t.Completed), ("completed-unattended", t.CompletedUnattended), ("failed", t.Failed), ("rolled-back", t.RolledBack),
            ("rejected", t.Rejected), ("denied", t.Denied), ("cancelled", t.Cancelled), ("expired", t.Expired),
            ("awaiting-approval", t.AwaitingApproval), ("in-flight", t.InFlight),
        }.Select(o => new Measurement<long>(o.Count, new KeyValuePair<string, object?>("outcome", o.Outcome)));
    }

    private IEnumerable<Measurement<double>> ObserveAutonomyRate()
    {
        if (_snapshot is not { } s)
        {
            return [];
        }

        var overall = s.AutonomyRate is { } rate ? [new Measurement<double>(rate, new KeyValuePair<string, object?>("environment", "all"))] : Array.Empty<Measurement<double>>();
        return overall.Concat(s.ByEnvironment.Where(e => e.AutonomyRate is not null)
            .Select(e => new Measurement<double>(e.AutonomyRate!.Value, new KeyValuePair<string, object?>("environment", e.Key))));
    }

    private IEnumerable<Measurement<double>> ObserveOldestWait() =>
        _snapshot is { Approvals.OldestWaitingSince: { } since } ? [new Measurement<double>(Math.Max(0, (_clock.GetUtcNow() - since).TotalSeconds))] : [];

    private IEnumerable<Measurement<long>> Count(Func<AutonomyMetrics, int> figure) =>
        _snapshot is { } s ? [new Measurement<long>(figure(s))] : [];

    private IEnumerable<Measurement<double>> Rate(Func<AutonomyMetrics, double?> figure) =>
        _snapshot is { } s && figure(s) is { } value ? [new Measurement<double>(value)] : [];

    private IEnumerable<Measurement<double>> Percentiles(Func<AutonomyMetrics, LatencySummary> figure)
    {
        if (_snapshot is not { } s)
        {
            return [];
        }

        var latency = figure(s);
        return new (string Quantile, double? Value)[] { ("p50", latency.P50Ms), ("p95", latency.P95Ms) }
            .Where(q => q.Value is not null)
            .Select(q => new Measurement<double>(q.Value!.Value, new KeyValuePair<string, object?>("quantile", q.Quantile)));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Autonomy metrics refresh took {TookMs} ms; the next comes in {WaitSeconds} s, so refreshing takes at most 1/{CostShare} of the time")]
    private static partial void LogRefreshStretched(ILogger logger, long tookMs, long waitSeconds, int costShare);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Autonomy metrics refresh failed: {Error}")]
    private static partial void LogRefreshFailed(ILogger logger, string error);
}
