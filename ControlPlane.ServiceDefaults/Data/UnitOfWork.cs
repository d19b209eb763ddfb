using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.ServiceDefaults.Data;

/// <summary>
/// One PostgreSQL transaction holding a state change, the messages it causes (outbox) and, for a consumer, the
/// id of the message that caused it (inbox). Nothing is published unless the transaction commits.
/// Writes whose outcome the caller does not read at once (history, outbox, timers: <see cref="Defer"/>) are held back
/// and sent together, in the order they were made, in one round trip: before the next statement that needs an answer
/// (<see cref="CommandAsync"/>, <see cref="FlushAsync"/>) or with the commit. A proposal's lifecycle step wrote eight
/// statements one round trip each; every round trip is a wake-up of this process and of PostgreSQL.
/// </summary>
public sealed class UnitOfWork : IAsyncDisposable
{
    /// <summary>The SQLSTATE <c>expect_one_changed_row</c> raises.</summary>
    public const string NotOneChangedRowState = "CP001";

    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly CancellationToken _cancellationToken;
    private readonly List<(NpgsqlBatchCommand Command, Func<Exception>? Otherwise)> _deferred = [];

    private UnitOfWork(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        _connection = connection;
        _transaction = transaction;
        _cancellationToken = cancellationToken;
    }

    /// <summary>For statements built outside this class (batches): <see cref="FlushAsync"/> first, or they would run before the held-back writes.</summary>
    public NpgsqlConnection Connection => NothingDeferred(_connection);

    /// <inheritdoc cref="Connection"/>
    public NpgsqlTransaction Transaction => NothingDeferred(_transaction);

    /// <summary>How many writes are held back for the next round trip.</summary>
    public int DeferredCount => _deferred.Count;

    public static async Task<UnitOfWork> BeginAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            return new UnitOfWork(connection, transaction, cancellationToken);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>A statement whose answer the caller reads; the writes held back so far are sent first.</summary>
    public async ValueTask<NpgsqlCommand> CommandAsync(string sql)
    {
        await FlushAsync(_cancellationToken);
        return new NpgsqlCommand(sql, _connection, _transaction);
    }

    /// <summary>Holds a write back until the next round trip (the caller adds its parameters to the returned command).</summary>
    public NpgsqlBatchCommand Defer(string sql) => Defer(new NpgsqlBatchCommand(sql));

    /// <summary>Holds back a write built by the caller, parameters and all.</summary>
    public NpgsqlBatchCommand Defer(NpgsqlBatchCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        _deferred.Add((command, null));
        return command;
    }

    /// <summary>
    /// Holds back a write (an insert, update or delete without <c>returning</c>) that must change exactly one row, as a
    /// state update checked against the version read must. PostgreSQL checks it (<c>expect_one_changed_row</c>, a shared
    /// migration), so a write that changed another number of rows fails there, and the rest of its round trip, the
    /// commit included, never runs; the unit of work then fails with <paramref name="otherwise"/>'s exception.
    /// </summary>
    public NpgsqlBatchCommand DeferChangingOneRow(string sql, Func<Exception> otherwise)
    {
        ArgumentNullException.ThrowIfNull(otherwise);
        // The ordinal tells the error of one checked write from another's (Npgsql names the failed statement of a batch
        // only when told to keep every statement's parameters in its exceptions).
        var ordinal = _deferred.Count(d => d.Otherwise is not null);
        var command = new NpgsqlBatchCommand($"with changed as ({sql} returning 1) select expect_one_changed_row(count(*), {ordinal}) from changed");
        _deferred.Add((command, otherwise));
        return command;
    }

    /// <summary>Sends the writes held back so far, in order, in one round trip.</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken) =>
        _deferred.Count == 0 ? ValueTask.CompletedTask : SendDeferredAsync(commit: false, cancellationToken);

    private async ValueTask SendDeferredAsync(bool commit, CancellationToken cancellationToken)
    {
        var deferred = _deferred.ToArray();
        _deferred.Clear();
        await using var batch = new NpgsqlBatch(_connection, _transaction);
        foreach (var (command, _) in deferred)
        {
            batch.BatchCommands.Add(command);
        }

        if (commit)
        {
            // PostgreSQL skips the rest of a batch after an error, so the commit runs only if every write did.
            batch.BatchCommands.Add(new NpgsqlBatchCommand("commit"));
        }

        try
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == NotOneChangedRowState)
        {
            var failed = deferred.Where(d => d.Otherwise is not null).ElementAtOrDefault(int.Parse(ex.ConstraintName!.AsSpan("write ".Length), CultureInfo.InvariantCulture));
            throw failed.Otherwise?.Invoke() ?? new InvalidOperationException($"A checked write failed its check but none is held back as '{ex.ConstraintName}'.", ex);
        }
    }

    // A row back (and one row affected) when the message is new; none for a redelivery.
    private const string InboxInsertSql = "insert into inbox_messages (consumer, message_id) values ($1, $2) on conflict do nothing returning true";

    /// <summary>Records that <paramref name="consumer"/> handled <paramref name="messageId"/>; false when it already had.</summary>
    public async Task<bool> AcceptOnceAsync(string consumer, Guid messageId, CancellationToken cancellationToken)
    {
        await using var command = await CommandAsync(InboxInsertSql);
        command.Parameters.Add(new() { Value = consumer });
        command.Parameters.Add(new() { Value = messageId });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// <see cref="AcceptOnceAsync"/> and the reads a consumer needs next, in one round trip: null when the consumer
    /// already handled the message (the reads are discarded), else a reader on the first read's rows
    /// (<c>NextResultAsync</c> moves to the next read's). Every read must return rows (a select).
    /// </summary>
    public async Task<NpgsqlDataReader?> AcceptOnceAndReadAsync(string consumer, Guid messageId, IEnumerable<NpgsqlBatchCommand> reads,
        CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken);
        // Not disposed here: the reader outlives this method, and disposing the reader releases what the batch holds.
        var batch = new NpgsqlBatch(_connection, _transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(InboxInsertSql)
                {
                    Parameters = { new() { Value = consumer }, new() { Value = messageId } },
                },
            },
        };
        foreach (var read in reads)
        {
            batch.BatchCommands.Add(read);
        }

        var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (await reader.ReadAsync(cancellationToken) && await reader.NextResultAsync(cancellationToken))
        {
            return reader;
        }

        await reader.DisposeAsync();
        return null;
    }

    /// <summary>
    /// Adds a message to the outbox, published when it is for everyone, sent when it names a queue. Held back with the
    /// unit's other writes (<see cref="Defer"/>): the returned task is already complete.
    /// </summary>
    public Task<Guid> EnqueueAsync<T>(T message, CancellationToken cancellationToken, string? destinationQueue = null,
        IReadOnlyDictionary<string, string>? headers = null) where T : class
    {
        cancellationToken.ThrowIfCancellationRequested();
        var messageId = Guid.CreateVersion7();
        // The notification rides on the insert: PostgreSQL delivers it only when the transaction commits, and once
        // however many messages the transaction queued, so the relay wakes without polling delay.
        var command = Defer($"""
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
        return Task.FromResult(messageId);
    }

    /// <summary>Commits; writes still held back go in the same round trip as the commit.</summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_deferred.Count == 0)
        {
            await _transaction.CommitAsync(cancellationToken);
            return;
        }

        await SendDeferredAsync(commit: true, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        // Writes still held back were never sent: the transaction rolls back without them.
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }

    private T NothingDeferred<T>(T value) => _deferred.Count == 0
        ? value
        : throw new InvalidOperationException($"{_deferred.Count} writes of this unit of work are held back: FlushAsync before using its connection directly.");
}
