using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Data;
using Npgsql;

namespace ControlPlane.Orchestrator.Data;

/// <summary>Change windows in PostgreSQL; every change is also a ChangeWindowChanged event in the same transaction (evidence records it).</summary>
public sealed class ChangeWindowStore(NpgsqlDataSource dataSource, TimeProvider clock)
{
    private const string Columns = """
        id, name, kind, schedule, duration, time_zone, environments, nodes, teams, extends_to_dependents, description,
        created_by, created_at, updated_by, updated_at
        """;

    public async Task<IReadOnlyList<ChangeWindow>> ListAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"select {Columns} from change_windows order by created_at, id");
        return await ReadAllAsync(command, ct);
    }

    public async Task<ChangeWindow?> GetAsync(Guid id, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"select {Columns} from change_windows where id = $1");
        command.Parameters.Add(new() { Value = id });
        return (await ReadAllAsync(command, ct)).SingleOrDefault();
    }

    public async Task<ChangeWindow> CreateAsync(ChangeWindow window, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(window);
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        await using (var insert = await work.CommandAsync($"insert into change_windows ({Columns}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"))
        {
            Bind(insert, window);
            await insert.ExecuteNonQueryAsync(ct);
        }

        await work.EnqueueAsync(new ChangeWindowChanged(window, "created", window.CreatedBy, window.CreatedAt), ct);
        await work.CommitAsync(ct);
        return window;
    }

    /// <summary>Replaces the window (its creation stays as it was); null when there is none with that id.</summary>
    public async Task<ChangeWindow?> UpdateAsync(Guid id, Func<ChangeWindow, ChangeWindow> change, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(change);
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        ChangeWindow current;
        await using (var read = await work.CommandAsync($"select {Columns} from change_windows where id = $1 for update"))
        {
            read.Parameters.Add(new() { Value = id });
            if ((await ReadAllAsync(read, ct)).SingleOrDefault() is not { } found)
            {
                return null;
            }

            current = found;
        }

        var updated = change(current) with { Id = id, CreatedBy = current.CreatedBy, CreatedAt = current.CreatedAt };
        await using (var update = await work.CommandAsync("""
            update change_windows set name = $2, kind = $3, schedule = $4, duration = $5, time_zone = $6, environments = $7, nodes = $8,
                teams = $9, extends_to_dependents = $10, description = $11, updated_by = $14, updated_at = $15
            where id = $1 and created_by = $12 and created_at = $13
            """))
        {
            Bind(update, updated);
            await update.ExecuteNonQueryAsync(ct);
        }

        await work.EnqueueAsync(new ChangeWindowChanged(updated, "updated", updated.UpdatedBy ?? updated.CreatedBy, updated.UpdatedAt ?? clock.GetUtcNow()), ct);
        await work.CommitAsync(ct);
        return updated;
    }

    /// <summary>Deletes the window; returns it as it was, or null when there was none.</summary>
    public async Task<ChangeWindow?> DeleteAsync(Guid id, string by, CancellationToken ct)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        ChangeWindow? deleted;
        await using (var delete = await work.CommandAsync($"delete from change_windows where id = $1 returning {Columns}"))
        {
            delete.Parameters.Add(new() { Value = id });
            deleted = (await ReadAllAsync(delete, ct)).SingleOrDefault();
        }

        if (deleted is null)
        {
            return null;
        }

        await work.EnqueueAsync(new ChangeWindowChanged(deleted, "deleted", by, clock.GetUtcNow()), ct);
        await work.CommitAsync(ct);
        return deleted;
    }

    private static void Bind(NpgsqlCommand command, ChangeWindow w)
    {
        command.Parameters.Add(new() { Value = w.Id });
        command.Parameters.Add(new() { Value = w.Name });
        command.Parameters.Add(new() { Value = w.Kind });
        command.Parameters.Add(new() { Value = w.Schedule });
        command.Parameters.Add(new() { Value = w.Duration });
        command.Parameters.Add(new() { Value = w.TimeZone });
        command.Parameters.Add(new() { Value = w.Scope.Environments.ToArray() });
        command.Parameters.Add(new() { Value = w.Scope.Nodes.ToArray() });
        command.Parameters.Add(new() { Value = w.Scope.Teams.ToArray() });
        command.Parameters.Add(new() { Value = w.ExtendsToDependents });
        command.Parameters.Add(new() { Value = (object?)w.Description ?? DBNull.Value });
        command.Parameters.Add(new() { Value = w.CreatedBy });
        command.Parameters.Add(new() { Value = w.CreatedAt });
        command.Parameters.Add(new() { Value = (object?)w.UpdatedBy ?? DBNull.Value });
        command.Parameters.Add(new() { Value = (object?)w.UpdatedAt ?? DBNull.Value });
    }

    private static async Task<IReadOnlyList<ChangeWindow>> ReadAllAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var list = new List<ChangeWindow>();
        await using var r = await command.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new ChangeWindow(
                r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
                new ChangeWindowScope(r.GetFieldValue<string[]>(6), r.GetFieldValue<string[]>(7), r.GetFieldValue<string[]>(8)),
                r.GetBoolean(9), r.IsDBNull(10) ? null : r.GetString(10), r.GetString(11), r.GetFieldValue<DateTimeOffset>(12),
                r.IsDBNull(13) ? null : r.GetString(13), r.IsDBNull(14) ? null : r.GetFieldValue<DateTimeOffset>(14)));
        }

        return list;
    }
}
