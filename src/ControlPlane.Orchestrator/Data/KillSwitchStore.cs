using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Data;
using Npgsql;

namespace ControlPlane.Orchestrator.Data;

/// <summary>An engaged kill switch: scope "environment" or "fleet".</summary>
public sealed record KillSwitch(string Scope, string Value, string Reason, string EngagedBy, DateTimeOffset EngagedAt);

/// <summary>Kill switches in PostgreSQL; every change is also a KillSwitchChanged event in the same transaction.</summary>
public sealed class KillSwitchStore(NpgsqlDataSource dataSource, TimeProvider clock)
{
    public const string EnvironmentScope = "environment";
    public const string FleetScope = "fleet";

    public async Task<IReadOnlyList<KillSwitch>> ListAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("select scope, value, reason, engaged_by, engaged_at from kill_switches order by scope, value");
        var list = new List<KillSwitch>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(new KillSwitch(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4)));
        }

        return list;
    }

    /// <summary>Engages the switch; returns it and whether it was newly engaged (an engaged one is left as it is).</summary>
    public async Task<(KillSwitch Switch, bool Created)> EngageAsync(string scope, string value, string reason, string by, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        await using (var insert = await work.CommandAsync("""
            insert into kill_switches (scope, value, reason, engaged_by, engaged_at) values ($1, $2, $3, $4, $5) on conflict do nothing
            """))
        {
            insert.Parameters.Add(new() { Value = scope });
            insert.Parameters.Add(new() { Value = value });
            insert.Parameters.Add(new() { Value = reason });
            insert.Parameters.Add(new() { Value = by });
            insert.Parameters.Add(new() { Value = now });
            if (await insert.ExecuteNonQueryAsync(ct) == 1)
            {
                await work.EnqueueAsync(new KillSwitchChanged(scope, value, true, reason, by, now), ct);
                await work.CommitAsync(ct);
                return (new KillSwitch(scope, value, reason, by, now), true);
            }
        }

        await using var read = await work.CommandAsync("select reason, engaged_by, engaged_at from kill_switches where scope = $1 and value = $2");
        read.Parameters.Add(new() { Value = scope });
        read.Parameters.Add(new() { Value = value });
        await using var reader = await read.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (new KillSwitch(scope, value, reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)), false);
    }

    /// <summary>Releases the switch; false when it was not engaged.</summary>
    public async Task<bool> ReleaseAsync(string scope, string value, string reason, string by, CancellationToken ct)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        await using var delete = await work.CommandAsync("delete from kill_switches where scope = $1 and value = $2 returning reason");
        delete.Parameters.Add(new() { Value = scope });
        delete.Parameters.Add(new() { Value = value });
        if (await delete.ExecuteScalarAsync(ct) is not string engagedFor)
        {
            return false;
        }

        await work.EnqueueAsync(new KillSwitchChanged(scope, value, false, $"released: {reason} (engaged for: {engagedFor})", by, clock.GetUtcNow()), ct);
        await work.CommitAsync(ct);
        return true;
    }
}
