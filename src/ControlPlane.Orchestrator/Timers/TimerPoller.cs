using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Lifecycle;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.Orchestrator.Scheduling;
using ControlPlane.ServiceDefaults.Data;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

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
        await using (var claim = await scope.Work.CommandAsync("""
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

        await using (var delete = await scope.Work.CommandAsync("delete from timers where id = $1"))
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
public sealed partial class TimerHandlers(LifecycleEffects effects, TargetLeases leases, IOptions<OrchestratorOptions> options, ILogger<TimerHandlers> logger)
{
    private static readonly TimeSpan RedisRecheck = TimeSpan.FromSeconds(5);

    public async Task FireAsync(LifecycleScope scope, ProposalRecord proposal, DueTimer timer)
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
            case TimerKinds.WorkDeadline when timer.WorkId is { } workId:
                await WorkDeadlineAsync(scope, proposal, workId);
                break;
            case TimerKinds.WorkAccept when timer.WorkId is { } workId:
                await AcceptDeadlineAsync(scope, proposal, workId);
                break;
            default:
                // A timer that outlived its purpose (the proposal moved on) is simply dropped.
                break;
        }
    }

    /// <summary>No result by the deadline. Never stuck.</summary>
    private async Task WorkDeadlineAsync(LifecycleScope scope, ProposalRecord proposal, Guid workId)
    {
        var item = await WorkStore.LockAsync(scope.Work, workId, scope.CancellationToken);
        if (item is not { Status: WorkStatus.Pending })
        {
            return;
        }

        await TimedOutAsync(scope, proposal, item, $"no result for {WorkStore.StepName(item.Step)} '{item.Name}' (attempt {item.Attempt}) by its deadline", null);
    }

    /// <summary>
    /// No acceptance of the work reached orchestrator in time: ask fleet for the same work again (same work id, same
    /// fencing tokens) while offers remain; after that the work deadline decides. Never a new work id here: fleet may
    /// have placed the first request with a runner whose acceptance is still on its way, and two work ids for one
    /// change would let it run twice (found by the chaos suite). Fleet answers a repeated request idempotently and
    /// re-offers an unaccepted package itself (Fleet:AckTimeout); the repeat covers a fleet that lost the request.
    /// Never a failure by itself, so a fleet outage does not fail a change.
    /// </summary>
    private async Task AcceptDeadlineAsync(LifecycleScope scope, ProposalRecord proposal, Guid workId)
    {
        var ct = scope.CancellationToken;
        var item = await WorkStore.LockAsync(scope.Work, workId, ct);
        var work = options.Value.Work;
        if (item is not { Status: WorkStatus.Pending } || item.Step == WorkStep.Rollback || item.Attempt >= work.MaxOffers ||
            await WorkStore.IsAcceptedAsync(scope.Work, workId, ct))
        {
            return;
        }

        await WorkStore.CountOfferAsync(scope.Work, workId, ct);
        await scope.Work.EnqueueAsync(new WorkRequested(proposal.Id, item.WorkId, item.Step, item.Name, item.Fleet, item.ActionKind, item.Parameters,
            proposal.Targets, proposal.Environment, proposal.ContentHash, item.FencingTokens, work.Timeout, scope.Now), ct);
        ProposalStore.AddTimer(scope.Work, proposal.Id, TimerKinds.WorkAccept, scope.Now + work.AcceptTimeout, workId);
        LogAskedAgain(logger, proposal.Id, workId, item.Attempt + 1, work.AcceptTimeout.TotalSeconds);
    }

    /// <summary>
    /// The work will bring no result (deadline passed, runner went silent, package expired, nobody accepted it): offer it
    /// once more (an execution keeps its fencing tokens while its leases are still held, else takes them again), or fail
    /// the proposal when the attempts are spent or the targets are gone. <paramref name="retry"/> overrides the attempt count.
    /// </summary>
    public async Task TimedOutAsync(LifecycleScope scope, ProposalRecord proposal, WorkItem item, string late, bool? retry)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(proposal);
        ArgumentNullException.ThrowIfNull(item);
        var ct = scope.CancellationToken;
        var workId = item.WorkId;
        var again = retry ?? item.Attempt < options.Value.Work.MaxAttempts;
        var reason = again ? late + "; offering it once more" : late + "; no attempts left";
        if (again && item.Step == WorkStep.Execute && WorkResults.StepMatches(item.Step, proposal.State))
        {
            var (confirmed, why) = await ReconfirmLeasesAsync(scope, proposal, late);
            if (confirmed is null)
            {
                // Redis unreachable is a passing outage, not a verdict: look again shortly, the work stays pending.
                ProposalStore.AddTimer(scope.Work, proposal.Id, TimerKinds.WorkDeadline, scope.Now + RedisRecheck, workId);
                LogLeasesUnconfirmed(logger, proposal.Id, workId);
                return;
            }

            (again, reason) = (confirmed.Value, why);
        }

        await WorkStore.CompleteAsync(scope.Work, workId, WorkStatus.TimedOut, Trigger.Kebab(nameof(WorkOutcome.TimedOut)), null, late, scope.Now, ct);
        if (item.Step == WorkStep.Rollback)
        {
            LogRollbackTimedOut(logger, proposal.Id);
            if (ProposalStateMachine.IsTerminal(proposal.State) && !await WorkStore.HasPendingRollbackAsync(scope.Work, proposal.Id, ct))
            {
                await effects.ReleaseLeasesAsync(scope, proposal.Id, proposal.Environment);
            }

            return;
        }

        if (!WorkResults.StepMatches(item.Step, proposal.State))
        {
            return;
        }

        if (!again && (item.Step is WorkStep.Validate or WorkStep.Verify) &&
            CheckGate.Distinct(LifecycleEffects.Steps(proposal, item.Step)).FirstOrDefault(s => s.Name == item.Name) is { Advisory: true })
        {
            // An advisory step that never answered is a failed step of the verdict (kept as such when the proposal
            // ends, unlike spent work that is abandoned); it does not fail the change.
            await WorkStore.CompleteAsync(scope.Work, workId, WorkStatus.Failed, Trigger.Kebab(nameof(WorkOutcome.TimedOut)), null, late, scope.Now, ct);
            await effects.ConcludeChecksAsync(scope, proposal, item.Step, reason, LifecycleActors.Timer);
            return;
        }

        await scope.ApplyAsync(proposal, new Trigger(TriggerKind.TimedOut, reason, again), LifecycleActors.Timer);
    }

    /// <summary>True with the new tokens, false when the leases are gone for good, null when Redis cannot say right now.</summary>
    private async Task<(bool? Retry, string Reason)> ReconfirmLeasesAsync(LifecycleScope scope, ProposalRecord proposal, string late)
    {
        var o = options.Value;
        try
        {
            var result = await leases.AcquireAsync(proposal.Id, proposal.Environment, proposal.Targets, o.ConcurrencyFor(proposal.Environment), o.Leases.Ttl);
            if (result is LeaseResult.Acquired acquired)
            {
                await WorkStore.UpsertLeasesAsync(scope.Work, proposal.Id, proposal.Environment, acquired.FencingTokens, scope.Now, scope.CancellationToken);
                return (true, late + "; offering it once more under fencing tokens " +
                    string.Join(", ", acquired.FencingTokens.Select(t => $"{t.Key}={t.Value}")));
            }

            return (false, late + "; its target leases were lost and cannot be taken again (" +
                (result is LeaseResult.TargetBusy busy ? $"{busy.Target} is leased by another change" : "the environment is full") + ")");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return (null, late + "; its target leases cannot be confirmed (Redis unreachable)");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Proposal {ProposalId}: no runner acceptance of work {WorkId} reached orchestrator within {Seconds} s; asked fleet for it again (offer {Offer})")]
    private static partial void LogAskedAgain(ILogger logger, Guid proposalId, Guid workId, int offer, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Proposal {ProposalId}: work {WorkId} is due for a re-offer but Redis cannot confirm its leases; looking again shortly")]
    private static partial void LogLeasesUnconfirmed(ILogger logger, Guid proposalId, Guid workId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Rollback of proposal {ProposalId} did not report by its deadline; releasing its leases")]
    private static partial void LogRollbackTimedOut(ILogger logger, Guid proposalId);
}
