using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace ControlPlane.Load;

/// <summary>A raw figure of a server: operations per second with <see cref="InFlight"/> at once.</summary>
public sealed record BaselineFigure(string What, int InFlight, long Operations, TimeSpan Elapsed, LatencySummary Latency)
{
    public double PerSecond => Operations / Elapsed.TotalSeconds;
}

/// <summary>
/// What the servers themselves do, measured on the same servers in the same run: RabbitMQ publish → consume round
/// trips with publisher confirms (a durable queue, persistent messages, as the plane's bus uses them) and
/// PostgreSQL inserts of an evidence-sized row, each committed (a logged table, as evidence's is).
/// </summary>
public static class Baselines
{
    public const string ScratchDatabase = "controlplane_load_scratch";

    public static async Task<BaselineFigure> RabbitRoundTripsAsync(Uri amqp, int inFlight, TimeSpan duration, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = amqp, ClientProvidedName = "controlplane-load" };
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        await using var consumerChannel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await using var publisher = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
        var queue = $"controlplane-load-{Guid.NewGuid():N}";
        await consumerChannel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
        try
        {
            var waiting = new ConcurrentDictionary<string, TaskCompletionSource>(StringComparer.Ordinal);
            await consumerChannel.BasicQosAsync(0, (ushort)Math.Max(inFlight * 2, 16), false, cancellationToken);
            var consumer = new AsyncEventingBasicConsumer(consumerChannel);
            consumer.ReceivedAsync += async (_, delivery) =>
            {
                await consumerChannel.BasicAckAsync(delivery.DeliveryTag, false, cancellationToken);
                if (delivery.BasicProperties.MessageId is { } id && waiting.TryRemove(id, out var arrived))
                {
                    arrived.TrySetResult();
                }
            };
            await consumerChannel.BasicConsumeAsync(queue, autoAck: false, consumer, cancellationToken);

            var body = new byte[512]; // about a small bus message
            var latencies = new ConcurrentBag<TimeSpan>();
            long count = 0;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, inFlight).Select(_ => Task.Run(async () =>
            {
                while (clock.Elapsed < duration)
                {
                    var id = Guid.NewGuid().ToString("N");
                    var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    waiting[id] = arrived;
                    var started = Stopwatch.GetTimestamp();
                    var properties = new BasicProperties { MessageId = id, DeliveryMode = DeliveryModes.Persistent };
                    await publisher.BasicPublishAsync(string.Empty, queue, true, properties, body, cancellationToken); // returns once confirmed
                    await arrived.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
                    latencies.Add(Stopwatch.GetElapsedTime(started));
                    Interlocked.Increment(ref count);
                }
            }, cancellationToken)));
            return new BaselineFigure("RabbitMQ publish→consume round trips (confirms, durable, persistent)", inFlight, count, clock.Elapsed, LoadStatistics.Summarize(latencies));
        }
        finally
        {
            await consumerChannel.QueueDeleteAsync(queue, cancellationToken: CancellationToken.None);
        }
    }

    /// <summary>The server's synchronous_commit setting, which decides what a commit costs (see eng/servers.sh).</summary>
    public static async Task<string> SynchronousCommitAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var show = new NpgsqlCommand("show synchronous_commit", connection);
        return (string)(await show.ExecuteScalarAsync(cancellationToken))!;
    }

    public static async Task<BaselineFigure> PostgresInsertsAsync(string connectionString, int inFlight, TimeSpan duration, CancellationToken cancellationToken)
    {
        var scratch = await EnsureScratchDatabaseAsync(connectionString, cancellationToken);
        var table = $"load_{Guid.NewGuid():N}";
        await using var source = NpgsqlDataSource.Create(scratch);
        // The evidence record's columns (src/ControlPlane.Evidence/Data/Migrations/0001_evidence.sql) with its unique
        // and proposal indexes (record_hash is not indexed since 0007).
        await using (var create = source.CreateCommand($"""
            create table {table} (sequence bigint primary key, record_id uuid not null unique, kind text not null, proposal_id uuid null,
                actor text null, occurred_at timestamptz not null, recorded_at timestamptz not null, payload text not null,
                payload_hash text not null, prev_hash text not null, record_hash text not null);
            create index {table}_proposal on {table} (proposal_id, sequence)
            """))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            var payload = new string('x', 1200); // an evidence payload is the event's canonical JSON, around a kilobyte
            var latencies = new ConcurrentBag<TimeSpan>();
            long sequence = 0;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, inFlight).Select(_ => Task.Run(async () =>
            {
                await using var connection = await source.OpenConnectionAsync(cancellationToken);
                await using var insert = new NpgsqlCommand($"""
                    insert into {table} (sequence, record_id, kind, proposal_id, actor, occurred_at, recorded_at, payload, payload_hash, prev_hash, record_hash)
                    values ($1, $2, 'ProposalStateChanged', $3, 'remediation-agent', now(), now(), $4, $5, $6, $7)
                    """, connection);
                // Prepared, as the services' repeated statements are (automatic preparation): the raw rate at its best.
                var values = new NpgsqlParameter[]
                {
                    new() { NpgsqlDbType = NpgsqlDbType.Bigint }, new() { NpgsqlDbType = NpgsqlDbType.Uuid }, new() { NpgsqlDbType = NpgsqlDbType.Uuid },
                    new() { NpgsqlDbType = NpgsqlDbType.Text }, new() { NpgsqlDbType = NpgsqlDbType.Text }, new() { NpgsqlDbType = NpgsqlDbType.Text },
                    new() { NpgsqlDbType = NpgsqlDbType.Text },
                };
                insert.Parameters.AddRange(values);
                await insert.PrepareAsync(cancellationToken);
                while (clock.Elapsed < duration)
                {
                    var started = Stopwatch.GetTimestamp();
                    values[0].Value = Interlocked.Increment(ref sequence);
                    values[1].Value = Guid.CreateVersion7(); // as evidence makes record ids and orchestrator proposal ids
                    values[2].Value = Guid.CreateVersion7();
                    values[3].Value = payload;
                    values[4].Value = Hash();
                    values[5].Value = Hash();
                    values[6].Value = Hash();
                    await insert.ExecuteNonQueryAsync(cancellationToken); // autocommit: one committed transaction per row
                    latencies.Add(Stopwatch.GetElapsedTime(started));
                }
            }, cancellationToken)));
            return new BaselineFigure("PostgreSQL committed inserts of an evidence-sized row", inFlight, latencies.Count, clock.Elapsed, LoadStatistics.Summarize(latencies));
        }
        finally
        {
            await using var drop = source.CreateCommand($"drop table if exists {table}");
            await drop.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private static string Hash() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

    private static async Task<string> EnsureScratchDatabaseAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = $1", connection) { Parameters = { new() { Value = ScratchDatabase } } };
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                await using var create = new NpgsqlCommand($"create database {ScratchDatabase}", connection);
                try
                {
                    await create.ExecuteNonQueryAsync(cancellationToken);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
                {
                    // another run created it a moment ago
                }
            }
        }

        return new NpgsqlConnectionStringBuilder(connectionString) { Database = ScratchDatabase }.ConnectionString;
    }
}
