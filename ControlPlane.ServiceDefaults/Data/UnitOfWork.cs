using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.ServiceDefaults.Data;

/// <summary>
/// One PostgreSQL transaction holding a state change, the messages it causes (outbox) and, for a consumer, the
/// id of the message that caused it (inbox). Nothing is published unless the transaction commits.
/// </summary>
public sealed class UnitOfWork : IAsyncDisposable
{
    private UnitOfWork(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        Connection = connection;
        Transaction = transaction;
    }

    public NpgsqlConnection Connection { get; }

    public NpgsqlTransaction Transaction { get; }

    public static async Task<UnitOfWork> BeginAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            return new UnitOfWork(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public NpgsqlCommand Command(string sql) => new(sql, Connection, Transaction);

    /// <summary>Records that <paramref name="consumer"/> handled <paramref name="messageId"/>; false when it already had.</summary>
    public async Task<bool> AcceptOnceAsync(string consumer, Guid messageId, CancellationToken cancellationToken)
    {
        await using var command = Command("insert into inbox_messages (consumer, message_id) values ($1, $2) on conflict do nothing");
        command.Parameters.Add(new() { Value = consumer });
        command.Parameters.Add(new() { Value = messageId });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Adds a message to the outbox: published when it is for everyone, sent when it names a queue.</summary>
    public async Task<Guid> EnqueueAsync<T>(T message, CancellationToken cancellationToken, string? destinationQueue = null,
        IReadOnlyDictionary<string, string>? headers = null) where T : class
    {
        var messageId = Guid.CreateVersion7();
        // The notification rides on the insert (one round trip): PostgreSQL delivers it only when the transaction
        // commits, and once however many messages the transaction queued, so the relay wakes without polling delay.
        await using var command = Command($"""
            with queued as (
                insert into outbox_messages (message_id, message_type, destination, body, headers, trace_parent)
                values ($1, $2, $3, $4, $5, $6)
                returning 1)
            select pg_notify('{OutboxRelay.Channel}', '') from queued
            """);
        command.Parameters.Add(new() { Value = messageId });
        command.Parameters.Add(new() { Value = OutboxTypes.NameOf(typeof(T)) });
        command.Parameters.Add(new() { Value = (object?)destinationQueue ?? DBNull.Value });
        command.Parameters.Add(new() { Value = JsonSerializer.Serialize(message, OutboxTypes.Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new() { Value = headers is null ? DBNull.Value : JsonSerializer.Serialize(headers), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new() { Value = (object?)Activity.Current?.Id ?? DBNull.Value });
        await command.ExecuteNonQueryAsync(cancellationToken);
        return messageId;
    }

    public Task CommitAsync(CancellationToken cancellationToken) => Transaction.CommitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }
}
