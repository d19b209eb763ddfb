using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ControlPlane.ServiceDefaults.Data;

/// <summary>
/// Publishes committed outbox rows to the bus in id order. Woken by NOTIFY on commit, and polls as a backstop.
/// One replica relays at a time (a transaction-scoped advisory lock), which keeps the order. A batch is handed to
/// the broker in id order without waiting for each confirm, and the confirms are awaited together: one round trip
/// per batch instead of one per message. A row is marked sent only after the broker confirmed it; a crash in between
/// republishes it with the same MessageId, which the consumers' inboxes drop. A row whose confirm failed stays
/// queued and goes out first in the next batch, so rows after it in the same batch may reach consumers before it
/// (as any redelivery may); the relay never waits on one message at a time.
/// </summary>
public sealed partial class OutboxRelay(NpgsqlDataSource dataSource,
    [FromKeyedServices(DatabaseExtensions.SessionDataSource)] NpgsqlDataSource sessions, // LISTEN is session state
    IBus bus, DatabaseMigrator migrator, IConfiguration configuration, ILogger<OutboxRelay> logger) : BackgroundService
{
    public const string Channel = "controlplane_outbox";
    /// <summary>The transaction-scoped advisory lock a replica holds while it relays.</summary>
    public const long RelayLockKey = 0x4F7574626F78; // "Outbox"
    private const int BatchSize = 100;

    private static readonly ActivitySource Source = new("ControlPlane.Outbox");
    private static readonly Meter Meter = new("ControlPlane.Outbox");
    private static readonly Counter<long> Published = Meter.CreateCounter<long>("controlplane.outbox.published", "{message}", "Outbox messages published to the bus");
    private static readonly Histogram<double> Lag = Meter.CreateHistogram<double>("controlplane.outbox.lag", "s", "Time from a message's commit to the broker's confirm");
    private static readonly Counter<long> Failures = Meter.CreateCounter<long>("controlplane.outbox.failures", "{attempt}", "Outbox publish attempts that failed");

    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    // Outbox:ConfirmTimeout: a batch whose confirms have not all come by then counts its unconfirmed rows as failed
    // (they stay queued) so a confirm that never comes cannot stop the relay. Generous: on a starved CPU publishing a
    // batch itself takes long, and cutting it short only republishes.
    private readonly TimeSpan _confirmTimeout = configuration.GetValue("Outbox:ConfirmTimeout", TimeSpan.FromMinutes(5));
    private static readonly TimeSpan Retention = TimeSpan.FromDays(7);
    private DateTimeOffset _nextCleanup = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!migrator.Completed && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(200, stoppingToken);
        }

        var backoff = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var listener = await sessions.OpenConnectionAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"listen {Channel}", listener))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                while (!stoppingToken.IsCancellationRequested)
                {
                    while (await RelayBatchAsync(stoppingToken) == BatchSize)
                    {
                        // keep draining while full batches come back
                    }

                    await CleanupAsync(stoppingToken);
                    backoff = TimeSpan.Zero;
                    await listener.WaitAsync(PollInterval, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                backoff = TimeSpan.FromMilliseconds(Math.Clamp(backoff.TotalMilliseconds * 2, 250, 10_000));
                LogRelayFailed(logger, ex, backoff.TotalMilliseconds);
                await Task.Delay(backoff, stoppingToken);
            }
        }
    }

    /// <summary>Publishes one batch; returns how many rows it sent.</summary>
    public async Task<int> RelayBatchAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        // The lock and the read in one round trip: the rows read are dropped when another replica holds the lock.
        await using var read = new NpgsqlBatch(connection, tx)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand($"select pg_try_advisory_xact_lock({RelayLockKey})"),
                new NpgsqlBatchCommand(
                    $"select id, message_id, message_type, destination, body::text, headers::text, trace_parent, created_at from outbox_messages where sent_at is null order by id limit {BatchSize}"),
            },
        };
        var rows = new List<OutboxRow>();
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken) || !reader.GetBoolean(0))
            {
                return 0; // another replica is relaying
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new OutboxRow(reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6),
                    reader.GetFieldValue<DateTimeOffset>(7)));
            }
        }

        // Started in id order on the bus's channel; confirms awaited together.
        using var confirmWindow = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        confirmWindow.CancelAfter(_confirmTimeout);
        var publishes = new Task[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            publishes[i] = PublishAsync(rows[i], confirmWindow.Token);
        }

        try
        {
            await Task.WhenAll(publishes);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Each failure is recorded on its row below.
        }

        // What happened to each row and the commit go to PostgreSQL in one round trip.
        await using var record = new NpgsqlBatch(connection, tx);
        var sent = new List<long>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (publishes[i].IsCompletedSuccessfully)
            {
                sent.Add(row.Id);
                Lag.Record(Math.Max(0, (DateTimeOffset.UtcNow - row.CreatedAt).TotalSeconds));
                continue;
            }

            var ex = publishes[i].Exception?.GetBaseException() ?? new TimeoutException($"The broker did not confirm within {_confirmTimeout.TotalSeconds:0} s.");
            Failures.Add(1);
            record.BatchCommands.Add(new NpgsqlBatchCommand("update outbox_messages set attempts = attempts + 1, last_error = $2 where id = $1")
            {
                Parameters = { new() { Value = row.Id }, new() { Value = ex.GetType().Name + ": " + ex.Message } },
            });
            LogPublishFailed(logger, ex, row.MessageType, row.MessageId);
        }

        if (sent.Count > 0)
        {
            record.BatchCommands.Add(new NpgsqlBatchCommand("update outbox_messages set sent_at = now(), attempts = attempts + 1 where id = any($1)")
            {
                Parameters = { new() { Value = sent.ToArray() } },
            });
        }

        if (record.BatchCommands.Count == 0)
        {
            await tx.CommitAsync(cancellationToken);
        }
        else
        {
            // PostgreSQL skips the rest of a batch after an error, so the commit runs only if every update did.
            record.BatchCommands.Add(new NpgsqlBatchCommand("commit"));
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        Published.Add(sent.Count);
        return sent.Count == rows.Count ? sent.Count : -1;
    }

    private async Task PublishAsync(OutboxRow row, CancellationToken cancellationToken)
    {
        var type = OutboxTypes.Resolve(row.MessageType);
        var message = JsonSerializer.Deserialize(row.Body, type, OutboxTypes.Json)
            ?? throw new InvalidOperationException($"Outbox row {row.Id} has an empty body.");
        var headers = row.Headers is null ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(row.Headers);

        // Continue the trace of the request that caused the message, so one trace spans the whole proposal.
        ActivityContext.TryParse(row.TraceParent, null, out var parent);
        using var activity = Source.StartActivity($"outbox relay {type.Name}", ActivityKind.Internal, parent);

        void Stamp(SendContext context)
        {
            context.MessageId = row.MessageId;
            if (headers is not null)
            {
                foreach (var (key, value) in headers)
                {
                    context.Headers.Set(key, value);
                }
            }
        }

        if (row.Destination is null)
        {
            await bus.Publish(message, type, Pipe.Execute<PublishContext>(Stamp), cancellationToken);
        }
        else
        {
            var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{row.Destination}"));
            await endpoint.Send(message, type, Pipe.Execute<SendContext>(Stamp), cancellationToken);
        }
    }

    private async Task CleanupAsync(CancellationToken cancellationToken)
    {
        if (DateTimeOffset.UtcNow < _nextCleanup)
        {
            return;
        }

        _nextCleanup = DateTimeOffset.UtcNow.AddHours(1);
        foreach (var sql in (string[])["delete from outbox_messages where sent_at < now() - $1", "delete from inbox_messages where processed_at < now() - $1"])
        {
            await using var command = dataSource.CreateCommand(sql);
            command.Parameters.Add(new() { Value = Retention });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private sealed record OutboxRow(long Id, Guid MessageId, string MessageType, string? Destination, string Body, string? Headers, string? TraceParent, DateTimeOffset CreatedAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox relay failed; retrying in {DelayMs} ms")]
    private static partial void LogRelayFailed(ILogger logger, Exception exception, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing {MessageType} {MessageId} from the outbox failed; it stays queued")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string messageType, Guid messageId);
}
