using ControlPlane.ServiceDefaults.Data;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Orchestrator.Itsm;

/// <summary>A proposal's change request as orchestrator knows it; SysId is null until ServiceNow confirmed one.</summary>
public sealed record ChangeRequestRow(Guid ProposalId, string? SysId, string? Number, string? Url, string? SyncedState, string? LastError);

/// <summary>SQL for change_requests and change_request_approvals (migration 0007).</summary>
public static class ChangeRequestStore
{
    /// <summary>Change states after which nothing is synced any more.</summary>
    public static readonly string[] Final = ["closed-successful", "closed-unsuccessful", "canceled"];

    private const string Columns = "proposal_id, sys_id, number, url, synced_state, last_error";

    public static async Task EnsureAsync(UnitOfWork work, Guid proposalId, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("""
            insert into change_requests (proposal_id, created_at, updated_at) values ($1, $2, $2) on conflict do nothing
            """);
        command.Parameters.Add(new() { Value = proposalId });
        command.Parameters.Add(new() { Value = now });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Locks the row for this unit of work: the consumer and the poller never sync one change at once.</summary>
    public static async Task<ChangeRequestRow?> LockAsync(UnitOfWork work, Guid proposalId, CancellationToken ct)
    {
        await using var command = await work.CommandAsync($"select {Columns} from change_requests where proposal_id = $1 for update");
        command.Parameters.Add(new() { Value = proposalId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    public static async Task<ChangeRequestRow?> FindAsync(NpgsqlDataSource dataSource, Guid proposalId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"select {Columns} from change_requests where proposal_id = $1");
        command.Parameters.Add(new() { Value = proposalId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    public static async Task UpdateAsync(UnitOfWork work, ChangeRequestRow row, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("""
            update change_requests set sys_id = $2, number = $3, url = $4, synced_state = $5, last_error = $6, updated_at = $7
            where proposal_id = $1
            """);
        command.Parameters.Add(new() { Value = row.ProposalId });
        foreach (var value in new[] { row.SysId, row.Number, row.Url, row.SyncedState, row.LastError })
        {
            command.Parameters.Add(new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        }

        command.Parameters.Add(new() { Value = now });
        await command.ExecuteNonQueryAsync(ct);
    }

    public static async Task SetErrorAsync(NpgsqlDataSource dataSource, Guid proposalId, string error, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("update change_requests set last_error = $2, updated_at = $3 where proposal_id = $1");
        command.Parameters.Add(new() { Value = proposalId });
        command.Parameters.Add(new() { Value = error });
        command.Parameters.Add(new() { Value = now });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Rows still to create or to move on (the poller's catch-up after an outage).</summary>
    public static async Task<IReadOnlyList<Guid>> UnsettledAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            select proposal_id from change_requests where sys_id is null or synced_state is null or not (synced_state = any($1))
            order by created_at limit 200
            """);
        command.Parameters.Add(new() { Value = Final });
        return await ReadIdsAsync(command, ct);
    }

    /// <summary>Linked change requests whose proposal still waits for approvals.</summary>
    public static async Task<IReadOnlyList<ChangeRequestRow>> AwaitingApprovalAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            select {string.Join(", ", Columns.Split(", ").Select(c => "c." + c))} from change_requests c join proposals p on p.id = c.proposal_id
            where c.sys_id is not null and p.state = 'awaiting-approval' order by c.created_at limit 200
            """);
        var rows = new List<ChangeRequestRow>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(Read(reader));
        }

        return rows;
    }

    public static async Task<bool> SeenAsync(NpgsqlDataSource dataSource, string approvalSysId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("select 1 from change_request_approvals where approval_sys_id = $1");
        command.Parameters.Add(new() { Value = approvalSysId });
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    /// <summary>Records a ServiceNow approval once, counted or ignored with the reason; false when it was already recorded.</summary>
    public static async Task<bool> RecordApprovalAsync(UnitOfWork work, string approvalSysId, Guid proposalId, string externalUser, string decision,
        string? principalId, bool counted, string? reason, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = await work.CommandAsync("""
            insert into change_request_approvals (approval_sys_id, proposal_id, external_user, decision, principal_id, counted, reason, seen_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing
            """);
        command.Parameters.Add(new() { Value = approvalSysId });
        command.Parameters.Add(new() { Value = proposalId });
        command.Parameters.Add(new() { Value = externalUser });
        command.Parameters.Add(new() { Value = decision });
        command.Parameters.Add(new() { Value = (object?)principalId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = counted });
        command.Parameters.Add(new() { Value = (object?)reason ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = now });
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    private static async Task<IReadOnlyList<Guid>> ReadIdsAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    private static ChangeRequestRow Read(NpgsqlDataReader r) => new(r.GetGuid(0), Text(r, 1), Text(r, 2), Text(r, 3), Text(r, 4), Text(r, 5));

    private static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
}
