using System.Text.Json;
using ControlPlane.Contracts;
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
    /// <summary>Records the request as pending; false when this work id is already known (a repeated request).</summary>
    public async Task<bool> RecordAsync(UnitOfWork work, WorkRequested request, DateTimeOffset now, CancellationToken ct)
    {
        // Clamped: a malformed timeout must not keep a request pending forever (it fails validation anyway).
        var timeout = TimeSpan.FromTicks(Math.Clamp(request.Timeout.Ticks, 0, options.Value.MaxWorkTimeout.Ticks));
        await using var insert = work.Command("""
            insert into work_items (work_id, proposal_id, step, fleet, action_kind, request, status, requested_at, placement_deadline)
            values ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)
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
        return await insert.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>Why this request can never be placed (bad fields, unknown fleet), or null.</summary>
    public async Task<string?> RejectionAsync(UnitOfWork work, WorkRequested request, CancellationToken ct)
    {
        if (WorkPackages.Validate(request, options.Value.MaxWorkTimeout) is { } invalid)
        {
            return "invalid work request: " + invalid;
        }

        await using var fleet = work.Command("select 1 from fleets where name = $1");
        fleet.Parameters.Add(new() { Value = request.Fleet });
        return await fleet.ExecuteScalarAsync(ct) is null ? $"invalid work request: unknown fleet '{request.Fleet}'" : null;
    }

    /// <summary>Signs and sends the package to the least busy live capable runner; the runner id, or null when none is live.</summary>
    public async Task<string?> TryPlaceAsync(UnitOfWork work, WorkRequested request, DateTimeOffset now, CancellationToken ct)
    {
        var candidates = new List<RunnerLoad>();
        await using (var find = work.Command("""
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

        if (RunnerSelection.Pick(candidates) is not { } chosen)
        {
            return null;
        }

        var package = WorkPackages.Create(request, chosen.RunnerId, now, options.Value.PackageExpiryMargin, WorkPackages.NewNonce());
        var key = await keys.GetActiveAsync(ct);
        var envelope = Dsse.Sign(package, WorkPackage.PayloadType, key.Key, key.KeyId);

        await using (var issue = work.Command("""
            update work_items set status = 'issued', runner_id = $2, nonce = $3, envelope = $4, issued_at = $5, expires_at = $6
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

        await using (var assigned = work.Command("update runners set last_assigned_at = $2 where id = $1"))
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
        await using (var select = work.Command("""
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
        await using (var select = work.Command("""
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
            var reason = $"runner {item.RunnerId} sent no result before the package expired at {item.ExpiresAt:O}";
            await CloseAsync(work, item.WorkId, "timed-out", WorkOutcome.TimedOut, reason, now, ct);
            await work.EnqueueAsync(new WorkCompleted(item.ProposalId, item.WorkId, ParseStep(item.Step), item.RunnerId, WorkOutcome.TimedOut, null, reason, now), ct);
            FleetTelemetry.WorkTimedOut.Add(1);
            LogTimedOut(logger, item.WorkId, item.RunnerId);
        }

        return expired.Count;
    }

    public static async Task CloseAsync(UnitOfWork work, Guid workId, string status, WorkOutcome outcome, string? reason, DateTimeOffset now, CancellationToken ct,
        DsseEnvelope? result = null)
    {
        await using var close = work.Command("""
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
    }

    public static string StepName(WorkStep step) => JsonNamingPolicy.KebabCaseLower.ConvertName(step.ToString());

    public static WorkStep ParseStep(string name) =>
        Enum.GetValues<WorkStep>().First(s => string.Equals(StepName(s), name, StringComparison.Ordinal));

    [LoggerMessage(Level = LogLevel.Information, Message = "Issued work {WorkId} to runner {RunnerId} of fleet {Fleet} ({ActionKind})")]
    private static partial void LogIssued(ILogger logger, Guid workId, string runnerId, string fleet, string actionKind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Work {WorkId} failed without a runner: {Reason}")]
    private static partial void LogFailed(ILogger logger, Guid workId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Work {WorkId} timed out on runner {RunnerId}")]
    private static partial void LogTimedOut(ILogger logger, Guid workId, string runnerId);
}
