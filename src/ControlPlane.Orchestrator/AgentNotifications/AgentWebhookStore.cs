using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.ServiceDefaults.Data;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Orchestrator.AgentNotifications;

/// <summary>An agent's registration as shown to it (never the secret).</summary>
public sealed record WebhookView(string Url, IReadOnlyList<string>? States, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset SecretRotatedAt);

/// <summary>One delivery as shown to the agent: where it stands and, when it failed, why.</summary>
public sealed record DeliveryView(string WebhookId, Guid ProposalId, long Version, string From, string To, string Status, int Attempts,
    DateTimeOffset CreatedAt, DateTimeOffset? LastAttemptAt, int? LastStatus, string? LastError, DateTimeOffset? DeliveredAt);

/// <summary>SQL for agent webhooks and their deliveries (the webhook outbox).</summary>
public static class AgentWebhookStore
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";

    /// <summary>
    /// Called in the transaction that records a state change (<see cref="ProposalStore.AppendHistory"/>): one
    /// delivery when the proposing agent registered a webhook whose filter takes <paramref name="to"/>. The id is
    /// derived from proposal and version, so it is the same however often the row is attempted. Held back with the
    /// unit's other writes.
    /// </summary>
    public static void Enqueue(UnitOfWork work, Guid proposalId, ProposalState from, ProposalState to, string reason, long version,
        DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(work);
        var command = work.Defer("""
            insert into agent_webhook_deliveries (message_id, agent_id, proposal_id, version, from_state, to_state, reason, at, next_attempt_at, created_at)
            select 'msg_' || replace(p.id::text, '-', '') || '_' || $2::text, w.agent_id, p.id, $2, $3, $4, $5, $6, $6, $6
            from proposals p join agent_webhooks w on w.agent_id = p.agent_id
            where p.id = $1 and (w.states is null or $4 = any (w.states))
            on conflict (message_id) do nothing
            """);
        command.Parameters.Add(new() { Value = proposalId });
        command.Parameters.Add(new() { Value = version });
        command.Parameters.Add(new() { Value = StateNames.Of(from) });
        command.Parameters.Add(new() { Value = StateNames.Of(to) });
        command.Parameters.Add(new() { Value = reason });
        command.Parameters.Add(new() { Value = at });
    }

    /// <summary>Creates or replaces the agent's webhook; the secret is set only on creation (<paramref name="protectedSecret"/>). True when created.</summary>
    public static async Task<bool> UpsertAsync(NpgsqlDataSource dataSource, string agentId, ValidWebhook webhook, byte[] protectedSecret,
        DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(webhook);
        await using var command = dataSource.CreateCommand("""
            insert into agent_webhooks (agent_id, url, states, protected_secret, created_at, updated_at, secret_rotated_at)
            values ($1, $2, $3, $4, $5, $5, $5)
            on conflict (agent_id) do update set url = excluded.url, states = excluded.states, updated_at = excluded.updated_at
            returning (xmax = 0)
            """);
        command.Parameters.Add(new() { Value = agentId });
        command.Parameters.Add(new() { Value = webhook.Url.AbsoluteUri });
        command.Parameters.Add(new()
        {
            Value = webhook.States is null ? DBNull.Value : webhook.States.Select(StateNames.Of).ToArray(),
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text,
        });
        command.Parameters.Add(new() { Value = protectedSecret });
        command.Parameters.Add(new() { Value = now });
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    public static async Task<WebhookView?> GetAsync(NpgsqlDataSource dataSource, string agentId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var command = dataSource.CreateCommand(
            "select url, states, created_at, updated_at, secret_rotated_at from agent_webhooks where agent_id = $1");
        command.Parameters.Add(new() { Value = agentId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new WebhookView(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<string[]>(1),
                reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetFieldValue<DateTimeOffset>(4))
            : null;
    }

    /// <summary>Replaces the secret; false when the agent has no webhook.</summary>
    public static async Task<bool> RotateSecretAsync(NpgsqlDataSource dataSource, string agentId, byte[] protectedSecret, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var command = dataSource.CreateCommand(
            "update agent_webhooks set protected_secret = $2, secret_rotated_at = $3, updated_at = $3 where agent_id = $1");
        command.Parameters.Add(new() { Value = agentId });
        command.Parameters.Add(new() { Value = protectedSecret });
        command.Parameters.Add(new() { Value = now });
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>Removes the webhook; what was still pending is recorded as failed (nowhere left to send it). False when there was none.</summary>
    public static async Task<bool> DeleteAsync(NpgsqlDataSource dataSource, string agentId, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        await using (var pending = await work.CommandAsync("""
            update agent_webhook_deliveries set status = 'failed', last_error = 'the webhook was deleted', last_attempt_at = coalesce(last_attempt_at, $2)
            where agent_id = $1 and status = 'pending'
            """))
        {
            pending.Parameters.Add(new() { Value = agentId });
            pending.Parameters.Add(new() { Value = now });
            await pending.ExecuteNonQueryAsync(ct);
        }

        int deleted;
        await using (var command = await work.CommandAsync("delete from agent_webhooks where agent_id = $1"))
        {
            command.Parameters.Add(new() { Value = agentId });
            deleted = await command.ExecuteNonQueryAsync(ct);
        }

        await work.CommitAsync(ct);
        return deleted == 1;
    }

    public static async Task<IReadOnlyList<DeliveryView>> ListDeliveriesAsync(NpgsqlDataSource dataSource, string agentId, string? status, Guid? proposalId,
        int limit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var command = dataSource.CreateCommand("""
            select message_id, proposal_id, version, from_state, to_state, status, attempts, created_at, last_attempt_at, last_status, last_error, delivered_at
            from agent_webhook_deliveries
            where agent_id = $1 and ($2::text is null or status = $2) and ($3::uuid is null or proposal_id = $3)
            order by id desc limit $4
            """);
        command.Parameters.Add(new() { Value = agentId });
        command.Parameters.Add(new() { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)proposalId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new() { Value = limit });
        var list = new List<DeliveryView>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(new DeliveryView(reader.GetString(0), reader.GetGuid(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.GetInt32(6), reader.GetFieldValue<DateTimeOffset>(7),
                reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8), reader.IsDBNull(9) ? null : reader.GetInt32(9),
                reader.IsDBNull(10) ? null : reader.GetString(10), reader.IsDBNull(11) ? null : reader.GetFieldValue<DateTimeOffset>(11)));
        }

        return list;
    }
}
