using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Approvals;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Itsm;
using ControlPlane.Orchestrator.Lifecycle;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.ServiceDefaults.Data;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace ControlPlane.Orchestrator.Scheduling;

/// <summary>
/// Starts authorized work and keeps running work's leases alive. Each pass (on a tick, or woken by a change):
/// renews the leases of proposals that hold them and lets go of those that ended; then, under a PostgreSQL
/// advisory lock so one replica schedules at a time, walks the queue of scheduled proposals in authorization
/// order and starts each whose environment is open (no kill switch, no change window holding it, a free slot) and whose targets
/// can all be leased. A proposal that cannot start yet stays queued, and holds its place: nothing later that
/// shares a target or its environment's next slot overtakes it. Redis unreachable means nothing new starts.
/// </summary>
public sealed partial class Scheduler(
    [FromKeyedServices(DatabaseExtensions.SessionDataSource)] NpgsqlDataSource dataSource, // holds a session lock while it schedules
    ProposalLifecycle lifecycle,
    LifecycleEffects effects,
    TargetLeases leases,
    ActionCatalog catalog,
    KillSwitchStore killSwitches,
    ChangeWindowStore changeWindows,
    WindowDependents windowDependents,
    ChangeRequestGate changeRequests,
    SchedulerSignal signal,
    SchedulerStatus status,
    DatabaseMigrator migrator,
    IOptions<OrchestratorOptions> options,
    TimeProvider clock,
    ILogger<Scheduler> logger) : BackgroundService
{
    private const long SchedulerLockKey = 0x5363686564756C; // "Schedul"
    private const int QueueWindow = 500;
    private DateTimeOffset _nextRenewal = DateTimeOffset.MinValue;

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
                await RenewLeasesAsync(stoppingToken);
                await ScheduleAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogPassFailed(logger, ex);
            }

            try
            {
                await signal.WaitAsync(options.Value.Scheduling.Interval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Every third of the lease TTL: renew what running proposals hold, release what ended ones still hold.</summary>
    public async Task RenewLeasesAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var ttl = options.Value.Leases.Ttl;
        if (now < _nextRenewal)
        {
            return;
        }

        _nextRenewal = now + (ttl / 3);
        var held = new List<(Guid Id, string Environment, string[] Targets, ProposalState State, bool RollingBack)>();
        await using (var command = dataSource.CreateCommand("""
            select l.proposal_id, l.environment, array_agg(l.target order by l.target), p.state,
                   exists (select 1 from work_items w where w.proposal_id = l.proposal_id and w.step = 'rollback' and w.status = 'pending')
            from leases l join proposals p on p.id = l.proposal_id
            where l.released_at is null
            group by l.proposal_id, l.environment, p.state
            """))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                held.Add((reader.GetGuid(0), reader.GetString(1), reader.GetFieldValue<string[]>(2), StateNames.Parse(reader.GetString(3)), reader.GetBoolean(4)));
            }
        }

        foreach (var lease in held)
        {
            try
            {
                if (ProposalStateMachine.IsTerminal(lease.State) && !lease.RollingBack)
                {
                    // Defensive sweep: an ended proposal with leases nothing else will release (no rollback pending).
                    await lifecycle.RunAsync(scope => effects.ReleaseLeasesAsync(scope, lease.Id, lease.Environment), ct);
                    continue;
                }

                var lost = await leases.RenewAsync(lease.Id, lease.Environment, lease.Targets, ttl);
                if (lost.Count > 0)
                {
                    LogLeaseLost(logger, lease.Id, string.Join(", ", lost));
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                LogRedisDown(logger, "renew leases", ex.GetType().Name);
                return;
            }
        }
    }

    public async Task ScheduleAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using (var tryLock = new NpgsqlCommand($"select pg_try_advisory_lock({SchedulerLockKey})", connection))
        {
            if (await tryLock.ExecuteScalarAsync(ct) is not true)
            {
                return; // another replica is scheduling
            }
        }

        try
        {
            await ScheduleLockedAsync(connection, ct);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"select pg_advisory_unlock({SchedulerLockKey})", connection);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private async Task ScheduleLockedAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var queue = new List<ProposalRecord>();
        await using (var command = new NpgsqlCommand($"""
            select {ProposalStore.Columns} from proposals where state = 'scheduled'
            order by authorized_at nulls last, submitted_at, id limit {QueueWindow}
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                queue.Add(ProposalStore.Read(reader));
            }
        }

        status.Retain(queue.Select(p => p.Id).ToHashSet());
        if (queue.Count == 0)
        {
            return;
        }

        var o = options.Value;
        var switches = (await killSwitches.ListAsync(ct)).ToDictionary(k => (k.Scope, k.Value), k => k);
        var windows = await windowDependents.ResolveAsync(CompileWindows(await changeWindows.ListAsync(ct)), ct);
        var now = clock.GetUtcNow();
        var blockedTargets = new HashSet<string>(StringComparer.Ordinal);
        var fullEnvironments = new HashSet<string>(StringComparer.Ordinal);
        foreach (var proposal in queue)
        {
            var keys = proposal.Targets.Select(t => proposal.Environment + "\n" + t).ToList();
            // Environment-wide holds first: they are the reason a person needs to see, whatever else is queued.
            string? wait = null;
            if (switches.TryGetValue((KillSwitchStore.EnvironmentScope, proposal.Environment), out var envSwitch))
            {
                wait = $"kill switch engaged on environment {proposal.Environment}: {envSwitch.Reason}";
            }
            else if (ChangeWindows.Evaluate(windows, ChangeScope.Of(proposal), now) is { Open: false } closed)
            {
                wait = closed.NextOpening is { } opens ? $"{closed.Reason}; it may start at {ChangeWindows.Format(opens)}" : closed.Reason;
            }
            else if (await changeRequests.WaitReasonAsync(connection, proposal, ct) is { } noChangeRequest)
            {
                wait = noChangeRequest;
            }
            else if (keys.Any(blockedTargets.Contains))
            {
                wait = "an earlier proposal waits for the same target";
            }
            else if (fullEnvironments.Contains(proposal.Environment))
            {
                wait = $"{proposal.Environment} has no free slot (limit {o.ConcurrencyFor(proposal.Environment)})";
            }

            if (wait is not null)
            {
                Hold(proposal, keys, wait, blockedTargets);
                continue;
            }

            if (!catalog.TryExecution(proposal, out var execution, out var unmapped))
            {
                await FailAsync(proposal.Id, unmapped!, ct);
                continue;
            }

            var fleetSwitch = new[] { execution!.Fleet, proposal.AgentFleet }
                .Select(f => f is null ? null : switches.GetValueOrDefault((KillSwitchStore.FleetScope, f)))
                .FirstOrDefault(s => s is not null);
            if (fleetSwitch is not null)
            {
                Hold(proposal, keys, $"kill switch engaged on fleet {fleetSwitch.Value}: {fleetSwitch.Reason}", blockedTargets);
                continue;
            }

            if (await DriftAsync(connection, proposal, ct) is { } drift)
            {
                await FailAsync(proposal.Id, drift, ct);
                continue;
            }

            LeaseResult result;
            try
            {
                result = await leases.AcquireAsync(proposal.Id, proposal.Environment, proposal.Targets, o.ConcurrencyFor(proposal.Environment), o.Leases.Ttl);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // Fail closed: without Redis no lease, so nothing new starts; the queue stays as it is.
                LogRedisDown(logger, "take leases", ex.GetType().Name);
                foreach (var waiting in queue)
                {
                    status.Waiting(waiting.Id, "leases unavailable: Redis is unreachable");
                }

                return;
            }

            switch (result)
            {
                case LeaseResult.Acquired acquired:
                    await StartAsync(proposal, acquired.FencingTokens, ct);
                    break;
                case LeaseResult.TargetBusy busy:
                    Hold(proposal, keys, $"target {busy.Target} is leased by another change", blockedTargets);
                    break;
                case LeaseResult.EnvironmentFull full:
                    fullEnvironments.Add(proposal.Environment);
                    Hold(proposal, keys, $"{proposal.Environment} has no free slot (limit {full.Limit})", blockedTargets);
                    break;
            }
        }
    }

    /// <summary>A stored window that no longer compiles (the API validates, so only a hand edit) holds everything: fail closed.</summary>
    private List<CompiledWindow> CompileWindows(IReadOnlyList<ChangeWindow> stored)
    {
        var compiled = new List<CompiledWindow>(stored.Count);
        foreach (var window in stored)
        {
            try
            {
                compiled.Add(CompiledWindow.Compile(window));
            }
            catch (FormatException ex)
            {
                LogBadWindow(logger, window.Id, ex.Message);
                compiled.Add(CompiledWindow.Compile(window with
                {
                    Kind = ChangeWindowKinds.Deny, Schedule = "* * * * *", Duration = "1h", TimeZone = "UTC",
                    Scope = new ChangeWindowScope(["*"], ["*"], ["*"]), Name = $"{window.Name} (unreadable: fix or delete it)",
                }));
            }
        }

        return compiled;
    }

    private void Hold(ProposalRecord proposal, IEnumerable<string> keys, string reason, HashSet<string> blockedTargets)
    {
        blockedTargets.UnionWith(keys);
        status.Waiting(proposal.Id, reason);
    }

    /// <summary>Execution refuses when what the approvers pinned is no longer what would run.</summary>
    private static async Task<string?> DriftAsync(NpgsqlConnection connection, ProposalRecord proposal, CancellationToken ct)
    {
        if (proposal.Decision?.Outcome != DecisionOutcome.RequireApproval)
        {
            return null;
        }

        IReadOnlyList<ApprovalRecorded> approvals;
        await using (var command = new NpgsqlCommand(null, connection))
        {
            approvals = await ProposalStore.ListApprovalsAsync(command, proposal.Id, ct);
        }

        var drifted = ApprovalRules.Drifted(proposal, approvals);
        if (drifted.Count == 0)
        {
            return null;
        }

        var (hash, graph, policy, plan) = ApprovalRules.Current(proposal);
        return $"approval drift: {string.Join(", ", drifted.Select(a => a.ApproverId))} approved proposal {drifted[0].ProposalHash}, graph v{drifted[0].GraphVersion}, " +
            $"policy {drifted[0].PolicyHash}, plan {drifted[0].PlanHash ?? "none"}; now {hash}, graph v{graph}, policy {policy}, plan {plan ?? "none"}";
    }

    private async Task StartAsync(ProposalRecord queued, IReadOnlyDictionary<string, long> tokens, CancellationToken ct)
    {
        var started = await lifecycle.RunAsync(async scope =>
        {
            var proposal = await scope.LoadAsync(queued.Id);
            if (proposal is not { State: ProposalState.Scheduled })
            {
                return false; // cancelled meanwhile
            }

            await WorkStore.UpsertLeasesAsync(scope.Work, proposal.Id, proposal.Environment, tokens, scope.Now, ct);
            scope.AfterCommit(() =>
            {
                OrchestratorTelemetry.LeasesHeld(proposal, scope.Now);
                return Task.CompletedTask;
            });
            var fencing = string.Join(", ", tokens.Select(t => $"{t.Key}={t.Value}"));
            await scope.ApplyAsync(proposal, new Trigger(TriggerKind.LeaseAcquired, $"leased {fencing} and a slot in {proposal.Environment}"),
                LifecycleActors.Scheduler);
            return true;
        }, ct);
        if (started)
        {
            status.Started(queued.Id);
        }
        else
        {
            await leases.ReleaseAsync(queued.Id, queued.Environment, queued.Targets);
        }
    }

    private Task FailAsync(Guid proposalId, string reason, CancellationToken ct) => lifecycle.RunAsync(async scope =>
    {
        var proposal = await scope.LoadAsync(proposalId);
        if (proposal is { State: ProposalState.Scheduled })
        {
            await scope.ApplyAsync(proposal, new Trigger(TriggerKind.PreflightFailed, reason), LifecycleActors.Scheduler);
        }
    }, ct);

    [LoggerMessage(Level = LogLevel.Error, Message = "Change window {WindowId} cannot be read ({Error}); it holds every change until fixed")]
    private static partial void LogBadWindow(ILogger logger, Guid windowId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scheduler pass failed")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis unreachable ({Error}) while trying to {Action}: nothing new is scheduled until it returns")]
    private static partial void LogRedisDown(ILogger logger, string action, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Proposal {ProposalId} lost its lease on {Targets} (expired before renewal)")]
    private static partial void LogLeaseLost(ILogger logger, Guid proposalId, string targets);
}
