using ControlPlane.ServiceDefaults.Data;
using Npgsql;

namespace ControlPlane.Orchestrator.Scheduling;

/// <summary>Where lease acquisition reads the floor of each target's fencing counter.</summary>
public interface IFencingFloors
{
    Task<IReadOnlyDictionary<string, long>> ReadAsync(IReadOnlyList<string> targets);
}

/// <summary>
/// The durable, strictly increasing source of fencing tokens: the highest token ever handed out per target, in
/// orchestrator's PostgreSQL (table fencing_tokens). Redis keeps the live counter for speed; this floor is what
/// survives Redis losing acknowledged writes.
/// </summary>
public sealed class FencingFloors(NpgsqlDataSource dataSource) : IFencingFloors
{
    /// <summary>The floor per target (0 for a target never leased).</summary>
    public async Task<IReadOnlyDictionary<string, long>> ReadAsync(IReadOnlyList<string> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var floors = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var command = dataSource.CreateCommand("select target, token from fencing_tokens where target = any($1)");
        command.Parameters.Add(new() { Value = targets.ToArray() });
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            floors[reader.GetString(0)] = reader.GetInt64(1);
        }

        return floors;
    }

    /// <summary>Raises the floors to the granted tokens, in the transaction that hands them out (never lowers one).</summary>
    public static async Task RaiseAsync(UnitOfWork work, IReadOnlyDictionary<string, long> tokens, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(tokens);
        foreach (var (target, token) in tokens.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            await using var command = await work.CommandAsync("""
                insert into fencing_tokens (target, token) values ($1, $2)
                on conflict (target) do update set token = greatest(fencing_tokens.token, excluded.token)
                """);
            command.Parameters.Add(new() { Value = target });
            command.Parameters.Add(new() { Value = token });
            await command.ExecuteNonQueryAsync(ct);
        }
    }
}
