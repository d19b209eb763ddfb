using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Fleet.Credentials;
using ControlPlane.Fleet.Signing;
using ControlPlane.ServiceDefaults.Data;
using Microsoft.Extensions.Options;
using NpgsqlTypes;

namespace ControlPlane.Fleet.Work;

/// <summary>
/// Places work on runners. Everything happens inside the caller's UnitOfWork, so recording the package, sending
/// it to the runner's queue and announcing WorkPackageIssued commit together or not at all.
/// </summary>
public sealed partial class WorkDispatcher(FleetSigningKeys keys, IOptions<FleetOptions> options, ILogger<WorkDispatcher> logger)
{
    /// <summary>Records the request as pending; false when this work id is already known (a repeated request) or was withdrawn.</summary>
    public async Task<bool> RecordAsync(UnitOfWork work, WorkRequested request, DateTimeOffset now, CancellationToken ct)
    {
        // Clamped: a malformed timeout must not keep a request pending forever (it fails validation anyway).
        var timeout = TimeSpan.FromTicks(Math.Clamp(request.Timeout.Ticks, 0, options.Value.MaxWorkTimeout.Ticks));
        // Work withdrawn before its request got here is recorded as superseded at once: never issued.
        await using var insert = await work.CommandAsync("""
            insert into work_items (work_id, proposal_id, step, fleet, action_kind, request, status, requested_at, placement_deadline, closed_at, reason)
            select $1, $2, $3, $4, $5, $6, case when w.work_id is null then 'pending' else 'superseded' end, $7, $8,
                   case when w.work_id is null then null else $7 end, w.reason
            from (select 1) one left join withdrawn_work w on w.work_id = $1
            on conflict (work_id) do nothing
            """);
        insert.Parameters.Add(new() { Value = request.WorkId });
        insert.Parameters.Add(new() { Value = request.ProposalId });
        insert.Parameters.Add(new() { Value = StepName(request.Step) });
        insert.Parameters.Add(new() { Value = request.Fleet ?? string.Empty });
        insert.Parameters.Add(new() { Value = request.ActionKind ?? string.Empty });
        insert.Parameters.Add(new() { Value = JsonSerializer.Serialize(request, ContractJson.Options), NpgsqlDbType = NpgsqlDbType.Jsonb });
        insert.Parameters.Add(new() { Value = now });
        insert.Parameters.Add(new() { Value = now + timeout });
        if (await insert.ExecuteNonQueryAsync(ct) != 1)
        {
            return false;
        }

        await using var status = await work.CommandAsync("select status from work_items where work_id = $1");
        status.Parameters.Add(new() { Value = request.WorkId });
        return await status.ExecuteScalarAsync(ct) is "pending";
    }

    /// <summary>Why this request can never be placed (bad fields, unknown fleet), or null.</summary>
    public async Task<string?> RejectionAsync(UnitOfWork work, WorkRequested request, CancellationToken ct)
    {
        if (WorkPackages.Validate(request, options.Value.MaxWorkTimeout) is { } invalid)
        {
            return "invalid work request: " + invalid;
        }

        await using var fleet = await work.CommandAsync("select 1 from fleets where name = $1");
        fleet.Parameters.Add(new() { Value = request.Fleet });
        return await fleet.ExecuteScalarAsync(ct) is null ? $"invalid work request: unknown fleet '{request.Fleet}'" : null;
    }

    /// <summary>
    /// Signs and sends the package to the least busy live capable runner (other than <paramref name="avoid"/> when another
    /// is live); the runner id, or null when none is live.
    /// </summary>
    public async Task<string?> TryPlaceAsync(UnitOfWork work, WorkRequested request, DateTimeOffset now, CancellationToken ct, string? avoid = null)
    {
        var candidates = new List<RunnerLoad>();
        await using (var find = await work.CommandAsync("""
            select r.id, (select count(*) from work_items w where w.runner_id = r.id and w.status = 'issued')::int, r.last_assigned_at
            from runners r
            where r.fleet = $1 and r.status = 'live' and r.last_heartbeat_at >= $3 and $2 = any (r.capabilities)
            """))
        {
            find.Parameters.Add(new() { Value = request.Fleet });
            find.Parameters.Add(new() { Value = request.ActionKind });
            find.Parameters.Add(new() { Value = now - options.Value.HeartbeatTimeout });
            await using var reader = await find.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                candidates.Add(new RunnerLoad(reader.GetString(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2)));
            }
        }

        if (avoid is not null && candidates.Any(c => c.RunnerId != avoid))
        {
            candidates.RemoveAll(c => c.RunnerId == avoid);
        }

        if (RunnerSelection.Pick(candidates) is not { } chosen)
        {
            return null;
        }

        string? agreementKey;
        await using (var agreement = await work.CommandAsync("select agreement_key from runners where id = $1"))
        {
            agreement.Parameters.Add(new() { Value = chosen.RunnerId });
            agreementKey = await agreement.ExecuteScalarAsync(ct) as string;
        }

        var package = WorkPackages.Create(request, chosen.RunnerId, now, options.Value.PackageExpiryMargin, WorkPackages.NewNonce());
        var key = await keys.GetActiveAsync(ct);
        package = package with { Credential = await CredentialStore.MintAsync(work, key, package, agreementKey, now, ct) };
        var envelope = Dsse.Sign(package, WorkPackage.PayloadType, key.Key, key.KeyId);

        await using (var issue = await work.CommandAsync("""
            update work_items set status = 'issued', runner_id = $2, nonce = $3, envelope = $4, issued_at = $5, expires_at = $6,
                accepted_at = null, started_at = null
            where work_id = $1
            """))
        {
            issue.Parameters.Add(new() { Value = request.WorkId });
            issue.Parameters.Add(new() { Value = chosen.RunnerId });
            issue.Parameters.Add(new() { Value = package.Nonce });
            issue.Parameters.Add(new() { Value = JsonSerializer.Serialize(envelope, ContractJson.Options), NpgsqlDbType = NpgsqlDbType.Jsonb });
            issue.Parameters.Add(new() { Value = now });
            issue.Parameters.Add(new() { Value = package.ExpiresAt });
            await issue.ExecuteNonQueryAsync(ct);
        }

        await using (var assigned = await work.CommandAsync("update runners set last_assigned_at = $2 where id = $1"))
        {
            assigned.Parameters.Add(new() { Value = chosen.RunnerId });
            assigned.Parameters.Add(new() { Value = now });
            await assigned.ExecuteNonQueryAsync(ct);
        }

        await work.EnqueueAsync(new DeliverWorkPackage(request.WorkId, envelope), ct, destinationQueue: DeliverWorkPackage.QueueFor(chosen.RunnerId));
        await work.EnqueueAsync(new WorkPackageIssued(request.ProposalId, request.WorkId, request.Step, request.Fleet, chosen.RunnerId, envelope, now), ct);
        FleetTelemetry.PackagesIssued.Add(1, new KeyValuePair<string, object?>("fleet", request.Fleet));
        LogIssued(logger, request.WorkId, chosen.RunnerId, request.Fleet, request.ActionKind);
        return chosen.RunnerId;
    }

    /// <summary>Closes work that was never placed: WorkCompleted Failed with the reason and no envelope.</summary>
    public async Task FailAsync(UnitOfWork work, WorkRequested request, string reason, DateTimeOffset now, CancellationToken ct)
    {
        await CloseAsync(work, request.WorkId, "failed", WorkOutcome.Failed, reason, now, ct);
        await work.EnqueueAsync(new WorkCompleted(request.ProposalId, request.WorkId, request.Step, string.Empty, WorkOutcome.Failed, null, reason, now), ct);
        FleetTelemetry.WorkFailed.Add(1, new KeyValuePair<string, object?>("fleet", request.Fleet));
        LogFailed(logger, request.WorkId, reason);
    }

    /// <summary>Pending work: placed when a runner is live now, failed once its deadline passed, otherwise left for the next round.</summary>
    public async Task<int> PlacePendingAsync(UnitOfWork work, DateTimeOffset now, CancellationToken ct)
    {
        var pending = new List<(WorkRequested Request, DateTimeOffset Deadline)>();
        await using (var select = await work.CommandAsync("""
            select request::text, placement_deadline from work_items where status = 'pending'
            order by requested_at limit 100 for update skip locked
            """))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                pending.Add((JsonSerializer.Deserialize<WorkRequested>(reader.GetString(0), ContractJson.Options)!, reader.GetFieldValue<DateTimeOffset>(1)));
            }
        }

        var changed = 0;
        foreach (var (request, deadline) in pending)
        {
            if (await TryPlaceAsync(work, request, now, ct) is not null)
            {
                changed++;
            }
            else if (now >= deadline)
            {
                await FailAsync(work, request, WorkPackages.NoRunnerReason(request.Fleet, request.ActionKind), now, ct);
                changed++;
            }
        }

        return changed;
    }

    /// <summary>Issued packages past their expiry without a result: WorkCompleted TimedOut, so orchestrator re-offers or fails the step.</summary>
    public async Task<int> ExpireAsync(UnitOfWork work, DateTimeOffset now, CancellationToken ct)
    {
        var expired = new List<(Guid WorkId, Guid ProposalId, string Step, string RunnerId, DateTimeOffset ExpiresAt)>();
        await using (var select = await work.CommandAsync("""
            select work_id, proposal_id, step, runner_id, expires_at from work_items
            where status = 'issued' and expires_at < $1 order by expires_at limit 100 for update skip locked
            """))
        {
            select.Parameters.Add(new() { Value = now });
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                expired.Add((reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4)));
            }
        }

        foreach (var item in expired)
        {
            await TimeOutAsync(work, item.ProposalId, item.WorkId, item.Step, item.RunnerId,
                $"runner {item.RunnerId} sent no result before the package expired at {item.ExpiresAt:O}", now, ct);
        }

        return expired.Count;
    }

    /// <summary>
    /// Issued packages no runner accepted within the ack timeout: offered again with a new nonce (another runner when one
    /// is live). The old package can no longer be accepted: fleet confirms acceptance only for the current nonce.
    /// </summary>
    public async Task<int> ReofferUnacknowledgedAsync(UnitOfWork work, DateTimeOffset now, CancellationToken ct)
    {
        var stale = new List<(WorkRequested Request, string RunnerId)>();
        await using (var select = await work.CommandAsync("""
            select request::text, runner_id from work_items
            where status = 'issued' and accepted_at is null and issued_at < $1 and expires_at > $2
            order by issued_at limit 100 for update skip locked
            """))
        {
            select.Parameters.Add(new() { Value = now - options.Value.AckTimeout });
            select.Parameters.Add(new() { Value = now });
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                stale.Add((JsonSerializer.Deserialize<WorkRequested>(reader.GetString(0), ContractJson.Options)!, reader.GetString(1)));
            }
        }

        foreach (var (request, runnerId) in stale)
        {
            await using (var back = await work.CommandAsync("""
                update work_items set status = 'pending', runner_id = null, nonce = null, offers = offers + 1 where work_id = $1
                """))
            {
                back.Parameters.Add(new() { Value = request.WorkId });
                await back.ExecuteNonQueryAsync(ct);
            }

            // The offer the runner never took is void, and so is its credential; the new offer gets its own.
            await CredentialStore.RevokeForWorkAsync(work, request.WorkId, "package re-offered", now, ct);
            var placed = await TryPlaceAsync(work, request, now, ct, avoid: runnerId);
            FleetTelemetry.PackagesReoffered.Add(1, new KeyValuePair<string, object?>("fleet", request.Fleet));
            LogReoffered(logger, request.WorkId, runnerId, options.Value.AckTimeout.TotalSeconds, placed ?? "(pending: no live runner)");
        }

        return stale.Count;
    }

    /// <summary>
    /// Work a runner accepted and then went silent on (no heartbeat): closed as timed out at once, so orchestrator decides
    /// (re-offer under its lease, or fail) in seconds rather than at the package's expiry.
    /// </summary>
    public async Task<int> CloseSilentAsync(UnitOfWork work, DateTimeOffset now, CancellationToken ct)
    {
        var orphaned = new List<(Guid WorkId, Guid ProposalId, string Step, string RunnerId)>();
        // A signed acknowledgement is a sign of life too: a runner that accepts just as its link comes back, before its next
        // heartbeat, is not yet silent on that package.
        await using var select = await work.CommandAsync("""
            select w.work_id, w.proposal_id, w.step, w.runner_id from work_items w join runners r on r.id = w.runner_id
            where w.status = 'issued' and w.accepted_at is not null and r.status = 'silent'
              and greatest(w.accepted_at, w.started_at) < $1
            order by w.issued_at limit 100 for update of w skip locked
            """);
        select.Parameters.Add(new() { Value = now - options.Value.HeartbeatTimeout });
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                orphaned.Add((reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3)));
            }
        }

        foreach (var item in orphaned)
        {
            await TimeOutAsync(work, item.ProposalId, item.WorkId, item.Step, item.RunnerId,
                $"runner {item.RunnerId} went silent (no heartbeat for {options.Value.HeartbeatTimeout.TotalSeconds:0} s) while holding the package", now, ct);
        }

        return orphaned.Count;
    }

    /// <summary>Orchestrator withdrew the work: no more offers, and a late result becomes WorkResultSuperseded. False when it was already closed.</summary>
    public static async Task<bool> WithdrawAsync(UnitOfWork work, WorkWithdrawn withdrawn, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(withdrawn);
        await using (var remember = await work.CommandAsync("insert into withdrawn_work (work_id, reason, withdrawn_at) values ($1, $2, $3) on conflict do nothing"))
        {
            remember.Parameters.Add(new() { Value = withdrawn.WorkId });
            remember.Parameters.Add(new() { Value = withdrawn.Reason ?? "withdrawn by orchestrator" });
            remember.Parameters.Add(new() { Value = withdrawn.At });
            await remember.ExecuteNonQueryAsync(ct);
        }

        await using var update = await work.CommandAsync("""
            update work_items set status = 'superseded', reason = $2, closed_at = $3 where work_id = $1 and status in ('pending', 'issued')
            """);
        update.Parameters.Add(new() { Value = withdrawn.WorkId });
        update.Parameters.Add(new() { Value = withdrawn.Reason ?? "withdrawn by orchestrator" });
        update.Parameters.Add(new() { Value = withdrawn.At });
        if (await update.ExecuteNonQueryAsync(ct) != 1)
        {
            return false;
        }

        await CredentialStore.RevokeForWorkAsync(work, withdrawn.WorkId, "package withdrawn", withdrawn.At, ct);
        return true;
    }

    // Expired or orphaned, the outcome is the same: the package is closed and orchestrator hears it timed out.
    private async Task TimeOutAsync(UnitOfWork work, Guid proposalId, Guid workId, string step, string runnerId, string reason, DateTimeOffset now,
        CancellationToken ct)
    {
        await CloseAsync(work, workId, "timed-out", WorkOutcome.TimedOut, reason, now, ct);
        await work.EnqueueAsync(new WorkCompleted(proposalId, workId, ParseStep(step), runnerId, WorkOutcome.TimedOut, null, reason, now), ct);
        FleetTelemetry.WorkTimedOut.Add(1);
        LogTimedOut(logger, workId, runnerId);
    }

    public static async Task CloseAsync(UnitOfWork work, Guid workId, string status, WorkOutcome outcome, string? reason, DateTimeOffset now, CancellationToken ct,
        DsseEnvelope? result = null)
    {
        await using var close = await work.CommandAsync("""
            update work_items set status = $2, outcome = $3, reason = $4, closed_at = $5, result_envelope = $6 where work_id = $1
            """);
        close.Parameters.Add(new() { Value = workId });
        close.Parameters.Add(new() { Value = status });
        close.Parameters.Add(new() { Value = JsonNamingPolicy.KebabCaseLower.ConvertName(outcome.ToString()) });
        close.Parameters.Add(new() { Value = (object?)reason ?? DBNull.Value });
        close.Parameters.Add(new() { Value = now });
        close.Parameters.Add(new()
        {
            Value = result is null ? DBNull.Value : JsonSerializer.Serialize(result, ContractJson.Options),
            NpgsqlDbType = NpgsqlDbType.Jsonb,
        });
        await close.ExecuteNonQueryAsync(ct);

        // However the package closed (result, refusal, expiry, silent runner), its credential is of no use any more.
        await CredentialStore.RevokeForWorkAsync(work, workId, "package " + status, now, ct);
    }

    public static string StepName(WorkStep step) => JsonNamingPolicy.KebabCaseLower.ConvertName(step.ToString());

    public static WorkStep ParseStep(string name) =>
        Enum.GetValues<WorkStep>().First(s => string.Equals(StepName(s), name, StringComparison.Ordinal));

    [LoggerMessage(Level = LogLevel.Information, Message = "Issued work {WorkId} to runner {RunnerId} of fleet {Fleet} ({ActionKind})")]
    private static partial void LogIssued(ILogger logger, Guid workId, string runnerId, string fleet, string actionKind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Work {WorkId}: runner {RunnerId} did not accept it within {Seconds} s; offered again to {Placed}")]
    private static partial void LogReoffered(ILogger logger, Guid workId, string runnerId, double seconds, string placed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Work {WorkId} failed without a runner: {Reason}")]
    private static partial void LogFailed(ILogger logger, Guid workId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Work {WorkId} timed out on runner {RunnerId}")]
    private static partial void LogTimedOut(ILogger logger, Guid workId, string runnerId);
}
