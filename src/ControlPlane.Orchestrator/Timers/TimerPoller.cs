using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Lifecycle;
using ControlPlane.ServiceDefaults.Data;
using Microsoft.Extensions.Options;

namespace ControlPlane.Orchestrator.Timers;

/// <summary>A due timer row, locked for this replica.</summary>
public sealed record DueTimer(long Id, Guid ProposalId, string Kind, Guid? WorkId);

/// <summary>
/// Fires due timers from PostgreSQL (the broker has no delayed delivery). Each timer is claimed with
/// "for update skip locked" inside the unit of work that applies its trigger, so replicas never fire one twice,
/// and a crash before commit leaves the timer due for the next poll.
/// </summary>
public sealed partial class TimerPoller(ProposalLifecycle lifecycle, TimerHandlers handlers, DatabaseMigrator migrator,
    IOptions<OrchestratorOptions> options, ILogger<TimerPoller> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!migrator.Completed && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(200, stoppingToken);
        }

        var backoff = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await FireNextAsync(stoppingToken))
                {
                    // drain everything that is due
                }

                backoff = TimeSpan.Zero;
                await Task.Delay(options.Value.Timers.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                backoff = TimeSpan.FromMilliseconds(Math.Clamp(backoff.TotalMilliseconds * 2, 250, 10_000));
                LogPollFailed(logger, ex, backoff.TotalMilliseconds);
                await Task.Delay(backoff, stoppingToken);
            }
        }
    }

    /// <summary>Fires one due timer; false when none is due.</summary>
    public Task<bool> FireNextAsync(CancellationToken ct) => lifecycle.RunAsync(async scope =>
    {
        DueTimer? timer = null;
        await using (var claim = scope.Work.Command("""
            select id, proposal_id, kind, work_id from timers where due_at <= now()
            order by due_at limit 1 for update skip locked
            """))
        await using (var reader = await claim.ExecuteReaderAsync(ct))
        {
            if (await reader.ReadAsync(ct))
            {
                timer = new DueTimer(reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetGuid(3));
            }
        }

        if (timer is null)
        {
            return false;
        }

        await using (var delete = scope.Work.Command("delete from timers where id = $1"))
        {
            delete.Parameters.Add(new() { Value = timer.Id });
            await delete.ExecuteNonQueryAsync(ct);
        }

        var proposal = await scope.LoadAsync(timer.ProposalId);
        if (proposal is not null)
        {
            await handlers.FireAsync(scope, proposal, timer);
        }

        return true;
    }, ct);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Timer poll failed; retrying in {DelayMs} ms")]
    private static partial void LogPollFailed(ILogger logger, Exception exception, double delayMs);
}

/// <summary>What each timer kind does when it fires.</summary>
public sealed class TimerHandlers
{
    public async Task FireAsync(LifecycleScope scope, Proposals.ProposalRecord proposal, DueTimer timer)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(proposal);
        ArgumentNullException.ThrowIfNull(timer);
        switch (timer.Kind)
        {
            case TimerKinds.ApprovalExpiry when proposal.State == ProposalState.AwaitingApproval:
                await scope.ApplyAsync(proposal, new Trigger(TriggerKind.ApprovalExpired, "the approval window passed without enough approvals"),
                    LifecycleActors.Timer);
                break;
            default:
                // A timer that outlived its purpose (the proposal moved on) is simply dropped.
                break;
        }
    }
}
