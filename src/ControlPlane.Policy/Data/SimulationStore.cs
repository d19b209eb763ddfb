using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Policy.Simulation;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Policy.Data;

/// <summary>A stored simulation: who ran it on what, the report, and who first viewed it when.</summary>
public sealed record StoredSimulation(Guid Id, string BundleHash, string RequestedBy, DateTimeOffset RequestedAt, HistoryQuery Query,
    SimulationReport Report, bool Truncated, string? ViewedBy, DateTimeOffset? ViewedAt);

/// <summary>policy_simulations (migration 0003): simulations by id; the first read through the API marks one viewed.</summary>
public sealed class SimulationStore(NpgsqlDataSource dataSource, TimeProvider time)
{
    private const string Columns = "id, bundle_hash, requested_by, requested_at, query, report, truncated, viewed_by, viewed_at";

    public async Task<StoredSimulation> SaveAsync(string bundleHash, string actor, HistoryQuery query, SimulationReport report, bool truncated,
        CancellationToken cancellationToken)
    {
        var simulation = new StoredSimulation(Guid.CreateVersion7(), bundleHash, actor, time.GetUtcNow(), query, report, truncated, null, null);
        await using var insert = dataSource.CreateCommand($"insert into policy_simulations ({Columns}) values ($1, $2, $3, $4, $5, $6, $7, null, null)");
        insert.Parameters.Add(new() { Value = simulation.Id });
        insert.Parameters.Add(new() { Value = bundleHash });
        insert.Parameters.Add(new() { Value = actor });
        insert.Parameters.Add(new() { Value = simulation.RequestedAt });
        insert.Parameters.Add(new() { Value = JsonSerializer.Serialize(query, ContractJson.Options), NpgsqlDbType = NpgsqlDbType.Jsonb });
        insert.Parameters.Add(new() { Value = JsonSerializer.Serialize(report, ContractJson.Options), NpgsqlDbType = NpgsqlDbType.Jsonb });
        insert.Parameters.Add(new() { Value = truncated });
        await insert.ExecuteNonQueryAsync(cancellationToken);
        return simulation;
    }

    /// <summary>The simulation, marked viewed by <paramref name="viewer"/> unless someone viewed it before (the first view counts); null when unknown.</summary>
    public async Task<StoredSimulation?> ViewAsync(Guid id, string viewer, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            update policy_simulations set viewed_by = coalesce(viewed_by, $2), viewed_at = coalesce(viewed_at, $3)
            where id = $1 returning {Columns}
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = viewer });
        command.Parameters.Add(new() { Value = time.GetUtcNow() });
        return await ReadOneAsync(command, cancellationToken);
    }

    /// <summary>The simulation as stored, without marking it viewed; null when unknown.</summary>
    public async Task<StoredSimulation?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"select {Columns} from policy_simulations where id = $1");
        command.Parameters.Add(new() { Value = id });
        return await ReadOneAsync(command, cancellationToken);
    }

    private static async Task<StoredSimulation?> ReadOneAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new StoredSimulation(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3),
            JsonSerializer.Deserialize<HistoryQuery>(reader.GetString(4), ContractJson.Options)!,
            JsonSerializer.Deserialize<SimulationReport>(reader.GetString(5), ContractJson.Options)!, reader.GetBoolean(6),
            reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8));
    }
}
