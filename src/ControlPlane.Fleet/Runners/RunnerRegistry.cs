using ControlPlane.Contracts;
using ControlPlane.Fleet.Work;
using ControlPlane.ServiceDefaults.Data;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Fleet.Runners;

/// <summary>A registered runner as fleet knows it.</summary>
public sealed record RunnerRecord(
    string Id,
    string Fleet,
    IReadOnlyList<string> Capabilities,
    string PublicKey,
    string KeyId,
    DateTimeOffset RegisteredAt,
    DateTimeOffset LastHeartbeatAt,
    string Status,
    int OutstandingWork);

/// <summary>A fleet with what its live runners can do.</summary>
public sealed record FleetView(string Name, string Description, int LiveRunners, IReadOnlyList<string> Capabilities);

public enum HeartbeatResult
{
    Live,
    Unknown,
    OtherFleet,
}

/// <summary>
/// Runners in fleet-db. Every change to a fleet's live membership (register, silence, return, removal) runs with
/// the fleet row locked and publishes FleetCapabilitiesChanged through the outbox when the live capabilities
/// moved, in the same transaction as the change.
/// </summary>
public sealed class RunnerRegistry(NpgsqlDataSource dataSource, TimeProvider clock, IOptions<FleetOptions> options, WorkSignal signal)
{
    private const string RunnerColumns = """
        r.id, r.fleet, r.capabilities, r.public_key, r.key_id, r.registered_at, r.last_heartbeat_at, r.status,
        (select count(*) from work_items w where w.runner_id = r.id and w.status = 'issued')::int
        """;

    public async Task<bool> FleetExistsAsync(string fleet, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("select 1 from fleets where name = $1");
        command.Parameters.Add(new() { Value = fleet });
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    /// <summary>Registers or re-registers; returns whether the runner is new and whether its key changed.</summary>
    public async Task<(bool Created, bool KeyChanged)> RegisterAsync(RunnerRegistration registration, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        string? previousFleet = null;
        string? previousKey = null;
        await using (var existing = await work.CommandAsync("select fleet, key_id from runners where id = $1 for update"))
        {
            existing.Parameters.Add(new() { Value = registration.RunnerId });
            await using var reader = await existing.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                previousFleet = reader.GetString(0);
                previousKey = reader.GetString(1);
            }
        }

        string[] fleets = previousFleet is null ? [registration.Fleet] : [registration.Fleet, previousFleet];
        await ChangeMembershipAsync(work, fleets, now, async () =>
        {
            await using var upsert = await work.CommandAsync("""
                insert into runners (id, fleet, capabilities, public_key, key_id, registered_at, last_heartbeat_at, status, agreement_key)
                values ($1, $2, $3, $4, $5, $6, $6, 'live', $7)
                on conflict (id) do update set fleet = excluded.fleet, capabilities = excluded.capabilities,
                    public_key = excluded.public_key, key_id = excluded.key_id, registered_at = excluded.registered_at,
                    last_heartbeat_at = excluded.last_heartbeat_at, status = 'live', agreement_key = excluded.agreement_key
                """);
            upsert.Parameters.Add(new() { Value = registration.RunnerId });
            upsert.Parameters.Add(new() { Value = registration.Fleet });
            upsert.Parameters.Add(new() { Value = registration.Capabilities.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray() });
            upsert.Parameters.Add(new() { Value = registration.PublicKey });
            upsert.Parameters.Add(new() { Value = registration.KeyId });
            upsert.Parameters.Add(new() { Value = now });
            upsert.Parameters.Add(new() { Value = (object?)registration.AgreementKey ?? DBNull.Value });
            await upsert.ExecuteNonQueryAsync(ct);
        }, ct);

        var keyChanged = !string.Equals(previousKey, registration.KeyId, StringComparison.Ordinal);
        if (keyChanged)
        {
            // Evidence records the key, so every result this runner signs can be verified offline later.
            await work.EnqueueAsync(new SigningKeyPublished(registration.RunnerId, "runner", registration.KeyId, registration.PublicKey, now), ct);
        }

        await work.CommitAsync(ct);
        signal.Wake();
        return (previousFleet is null, keyChanged);
    }

    public async Task<HeartbeatResult> HeartbeatAsync(string runnerId, string fleet, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        string status;
        await using (var find = await work.CommandAsync("select fleet, status from runners where id = $1 for update"))
        {
            find.Parameters.Add(new() { Value = runnerId });
            await using var reader = await find.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return HeartbeatResult.Unknown;
            }

            if (!string.Equals(reader.GetString(0), fleet, StringComparison.Ordinal))
            {
                return HeartbeatResult.OtherFleet;
            }

            status = reader.GetString(1);
        }

        async Task Touch()
        {
            await using var update = await work.CommandAsync("update runners set last_heartbeat_at = $2, status = 'live' where id = $1");
            update.Parameters.Add(new() { Value = runnerId });
            update.Parameters.Add(new() { Value = now });
            await update.ExecuteNonQueryAsync(ct);
        }

        if (status == "live")
        {
            await Touch();
        }
        else
        {
            await ChangeMembershipAsync(work, [fleet], now, Touch, ct);
        }

        await work.CommitAsync(ct);
        if (status != "live")
        {
            signal.Wake();
        }

        return HeartbeatResult.Live;
    }

    /// <summary>Forgets a runner. Its outstanding packages stay issued and expire; it may register again.</summary>
    public async Task<bool> RemoveAsync(string runnerId, CancellationToken ct)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        string? fleet;
        await using (var find = await work.CommandAsync("select fleet from runners where id = $1 for update"))
        {
            find.Parameters.Add(new() { Value = runnerId });
            fleet = await find.ExecuteScalarAsync(ct) as string;
        }

        if (fleet is null)
        {
            return false;
        }

        await ChangeMembershipAsync(work, [fleet], clock.GetUtcNow(), async () =>
        {
            await using var delete = await work.CommandAsync("delete from runners where id = $1");
            delete.Parameters.Add(new() { Value = runnerId });
            await delete.ExecuteNonQueryAsync(ct);
        }, ct);
        await work.CommitAsync(ct);
        return true;
    }

    /// <summary>Marks runners whose heartbeat is older than the timeout as silent; returns how many.</summary>
    public async Task<int> MarkSilentAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        var silent = new List<(string Id, string Fleet)>();
        await using (var find = await work.CommandAsync("select id, fleet from runners where status = 'live' and last_heartbeat_at < $1 for update skip locked"))
        {
            find.Parameters.Add(new() { Value = now - options.Value.HeartbeatTimeout });
            await using var reader = await find.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                silent.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        if (silent.Count == 0)
        {
            return 0;
        }

        await ChangeMembershipAsync(work, silent.Select(s => s.Fleet), now, async () =>
        {
            await using var update = await work.CommandAsync("update runners set status = 'silent' where id = any($1)");
            update.Parameters.Add(new() { Value = silent.Select(s => s.Id).ToArray() });
            await update.ExecuteNonQueryAsync(ct);
        }, ct);
        await work.CommitAsync(ct);
        return silent.Count;
    }

    public async Task<RunnerRecord?> FindAsync(string runnerId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"select {RunnerColumns} from runners r where r.id = $1");
        command.Parameters.Add(new() { Value = runnerId });
        var found = await ReadRunnersAsync(command, ct);
        return found.Count == 0 ? null : found[0];
    }

    public async Task<IReadOnlyList<RunnerRecord>> ListAsync(string? fleet, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"select {RunnerColumns} from runners r where $1::text is null or r.fleet = $1 order by r.fleet, r.id");
        command.Parameters.Add(new() { Value = (object?)fleet ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        return await ReadRunnersAsync(command, ct);
    }

    public async Task<IReadOnlyList<FleetView>> FleetsAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            select f.name, f.description, r.capabilities from fleets f
            left join runners r on r.fleet = f.name and r.status = 'live'
            order by f.name
            """);
        var byFleet = new Dictionary<string, (string Description, List<string[]> Live)>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var name = reader.GetString(0);
                if (!byFleet.TryGetValue(name, out var entry))
                {
                    entry = (reader.GetString(1), []);
                    byFleet[name] = entry;
                }

                if (!reader.IsDBNull(2))
                {
                    entry.Live.Add(reader.GetFieldValue<string[]>(2));
                }
            }
        }

        return byFleet.Select(kv =>
        {
            var live = FleetCapabilities.Of(kv.Key, kv.Value.Live);
            return new FleetView(kv.Key, kv.Value.Description, live.LiveRunners, live.ActionKinds);
        }).ToList();
    }

    private async Task ChangeMembershipAsync(UnitOfWork work, IEnumerable<string> fleets, DateTimeOffset now, Func<Task> change, CancellationToken ct)
    {
        // Sorted locks on the fleet rows: concurrent membership changes of one fleet see each other's effect.
        var names = fleets.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var before = new Dictionary<string, FleetCapabilities>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            await using (var lockFleet = await work.CommandAsync("select 1 from fleets where name = $1 for update"))
            {
                lockFleet.Parameters.Add(new() { Value = name });
                await lockFleet.ExecuteNonQueryAsync(ct);
            }

            before[name] = await LiveCapabilitiesAsync(work, name, ct);
        }

        await change();
        foreach (var name in names)
        {
            var after = await LiveCapabilitiesAsync(work, name, ct);
            if (!after.SameAs(before[name]))
            {
                await work.EnqueueAsync(new FleetCapabilitiesChanged(name, after.ActionKinds, after.LiveRunners, now), ct);
            }
        }
    }

    private static async Task<FleetCapabilities> LiveCapabilitiesAsync(UnitOfWork work, string fleet, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("select capabilities from runners where fleet = $1 and status = 'live'");
        command.Parameters.Add(new() { Value = fleet });
        var live = new List<string[]>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            live.Add(reader.GetFieldValue<string[]>(0));
        }

        return FleetCapabilities.Of(fleet, live);
    }

    private static async Task<IReadOnlyList<RunnerRecord>> ReadRunnersAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var runners = new List<RunnerRecord>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            runners.Add(new RunnerRecord(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<string[]>(2), reader.GetString(3),
                reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5), reader.GetFieldValue<DateTimeOffset>(6), reader.GetString(7),
                reader.GetInt32(8)));
        }

        return runners;
    }
}
