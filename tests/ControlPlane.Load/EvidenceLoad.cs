using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using RabbitMQ.Client;

namespace ControlPlane.Load;

/// <summary>What the evidence-append mode measured: records offered and what evidence appended of them.</summary>
public sealed record EvidenceLoadResult(long Offered, TimeSpan OfferedFor, long Refused, long Recorded, DateTimeOffset? First, DateTimeOffset? Last,
    LatencySummary PublishToRecorded)
{
    /// <summary>Sustained appends: records over first → last recorded_at (server clock).</summary>
    public double? PerSecond => Recorded >= 2 && First is { } first && Last is { } last && last > first ? Recorded / (last - first).TotalSeconds : null;
}

/// <summary>
/// The evidence-append mode: offers evidence's own input at a fixed rate, open loop, straight to its queue on the
/// plane's broker (as the services' outbox relays deliver it: a MassTransit envelope, persistent, with publisher
/// confirms), then reads from evidence-db what was appended. Each offered proposal id gets
/// <see cref="EventsPerProposal"/> lifecycle transitions, so records extend both the log and proposal chains and the
/// autonomy projection runs as it does for real proposals. Actor <see cref="Actor"/> marks them; the log is append-only,
/// so they stay: use a local plane.
/// </summary>
public sealed class EvidenceLoad(LoadOptions options, TextWriter log)
{
    public const string Actor = "controlplane-load";
    public const string QueueName = "evidence";
    public const int EventsPerProposal = 4;
    private const int Channels = 4;

    public async Task<EvidenceLoadResult> RunAsync(Uri bus, string evidenceDatabase, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bus);
        var factory = new ConnectionFactory { Uri = bus, ClientProvidedName = "controlplane-load evidence" };
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        var channels = new IChannel[Channels];
        for (var i = 0; i < Channels; i++)
        {
            channels[i] = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
        }

        try
        {
            // Offered into a backlog, the figures would measure the backlog: wait until evidence has caught up.
            var idle = Stopwatch.StartNew();
            uint waiting;
            while ((waiting = (await channels[0].QueueDeclarePassiveAsync(QueueName, cancellationToken)).MessageCount) > 0 && idle.Elapsed < options.Drain)
            {
                log.WriteLine($"evidence's queue still holds {waiting} messages; waiting for it to drain first");
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }

            var total = (long)Math.Round(options.Rate * options.Duration.TotalSeconds);
            log.WriteLine($"offering {total} evidence records at {options.Rate:0.##}/s for {options.Duration.TotalSeconds:0.##} s to queue '{QueueName}' on {Redacted(bus)}");
            var startedAt = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();
            var publishes = new List<Task<bool>>();
            // Version 7 ids, as orchestrator makes proposal ids and the outbox message ids: the real keys of evidence's
            // indexes arrive in time order, and random ones would measure a costlier index pattern than the plane's.
            var proposal = Guid.CreateVersion7();
            for (long i = 0; i < total; i++)
            {
                // The clock read once: read again for the delay, it could have passed the due time and made it negative.
                var wait = TimeSpan.FromSeconds(i / options.Rate) - clock.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cancellationToken);
                }

                if (i % EventsPerProposal == 0)
                {
                    proposal = Guid.CreateVersion7();
                }

                publishes.Add(PublishAsync(channels[i % Channels], Envelope(proposal, (int)(i % EventsPerProposal) + 1, DateTimeOffset.UtcNow), cancellationToken));
            }

            var offeredFor = clock.Elapsed;
            var refused = (await Task.WhenAll(publishes)).LongCount(ok => !ok);
            log.WriteLine($"offered in {offeredFor.TotalSeconds:0.00} s; {refused} not confirmed; awaiting the appends (up to {options.Drain.TotalSeconds:0} s)");

            var expected = total - refused;
            var (recorded, first, last, latencies) = await RecordedAsync(evidenceDatabase, startedAt, cancellationToken);
            var drainUntil = Stopwatch.StartNew();
            while (recorded < expected && drainUntil.Elapsed < options.Drain)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
                (recorded, first, last, latencies) = await RecordedAsync(evidenceDatabase, startedAt, cancellationToken);
            }

            return new EvidenceLoadResult(total, offeredFor, refused, recorded, first, last, LoadStatistics.Summarize(latencies));
        }
        finally
        {
            foreach (var channel in channels)
            {
                await channel.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// A MassTransit JSON envelope as the plane's buses write it (camelCase, message type URN), holding a
    /// ProposalStateChanged of the load tool's own proposal. At is the offer time: recorded_at - at is the append latency.
    /// </summary>
    public static (Guid MessageId, byte[] Body) Envelope(Guid proposalId, int version, DateTimeOffset at)
    {
        var messageId = Guid.CreateVersion7(at);
        var envelope = new
        {
            messageId,
            messageType = new[] { "urn:message:ControlPlane.Contracts:ProposalStateChanged" },
            message = new
            {
                proposalId,
                from = version == 1 ? "submitted" : "assessing",
                to = version == 1 ? "assessing" : "awaiting-approval",
                reason = "load: evidence append",
                actor = Actor,
                version,
                at,
            },
            sentTime = at,
            headers = new { },
        };
        return (messageId, JsonSerializer.SerializeToUtf8Bytes(envelope));
    }

    private static async Task<bool> PublishAsync(IChannel channel, (Guid MessageId, byte[] Body) envelope, CancellationToken cancellationToken)
    {
        var properties = new BasicProperties
        {
            MessageId = envelope.MessageId.ToString(),
            ContentType = "application/vnd.masstransit+json",
            DeliveryMode = DeliveryModes.Persistent,
        };
        try
        {
            await channel.BasicPublishAsync(string.Empty, QueueName, true, properties, envelope.Body, cancellationToken); // returns once confirmed
            return true;
        }
        catch (Exception e) when (e is RabbitMQ.Client.Exceptions.PublishException or RabbitMQ.Client.Exceptions.AlreadyClosedException)
        {
            return false;
        }
    }

    private static async Task<(long Count, DateTimeOffset? First, DateTimeOffset? Last, List<TimeSpan> Latencies)> RecordedAsync(
        string connectionString, DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var query = new NpgsqlCommand(
            "select recorded_at, occurred_at from evidence_records where actor = $1 and recorded_at >= $2 order by sequence", connection)
        {
            Parameters = { new() { Value = Actor }, new() { Value = since.AddSeconds(-1) } },
        };
        var latencies = new List<TimeSpan>();
        DateTimeOffset? first = null, last = null;
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var recorded = reader.GetFieldValue<DateTimeOffset>(0);
            first ??= recorded;
            last = recorded;
            latencies.Add(recorded - reader.GetFieldValue<DateTimeOffset>(1));
        }

        return (latencies.Count, first, last, latencies);
    }

    private static string Redacted(Uri uri) => new UriBuilder(uri) { UserName = "", Password = "" }.Uri.ToString();
}
