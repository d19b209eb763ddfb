using System.Globalization;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Orchestrator.AgentNotifications;

/// <summary>A due delivery, locked for this replica, with where and how to sign it.</summary>
internal sealed record DueDelivery(long Id, string MessageId, string AgentId, Guid ProposalId, long Version, string From, string To, string Reason,
    DateTimeOffset At, int Attempts, DateTimeOffset CreatedAt, Uri Url, byte[] ProtectedSecret);

/// <summary>
/// Posts webhook deliveries from the outbox table. Each attempt claims its row with "for update skip locked" and
/// holds the lock while it posts, so no two replicas (or workers) send one delivery at once, and a crash before the
/// outcome commits leaves the row due again (at-least-once; the stable webhook-id lets the receiver drop repeats).
/// A delivery waits while an earlier one of the same proposal is pending, so each proposal's changes arrive in order.
/// </summary>
public sealed partial class WebhookDispatcher(NpgsqlDataSource dataSource, AgentWebhookSecrets secrets, DatabaseMigrator migrator,
    IOptions<AgentWebhookOptions> options, IHostEnvironment environment, TimeProvider clock, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    // Not from the factory: the plane's default resilience handler would repeat a POST inside one attempt and share
    // one circuit breaker among every agent's receiver; retries here are per delivery, from the table. Redirects are
    // not followed: the registered URL is the one the agent vouched for. Connections go only where the address guard allows.
    private readonly HttpClient _http = new(WebhookAddressGuard.Handler(options.Value.AllowPrivateNetworks || environment.IsDevelopment()))
    {
        Timeout = System.Threading.Timeout.InfiniteTimeSpan,
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!migrator.Completed && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(200, stoppingToken);
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, options.Value.Workers)).Select(_ => WorkAsync(stoppingToken)));
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await SendNextAsync(stoppingToken))
                {
                    // drain what is due
                }

                backoff = TimeSpan.Zero;
                await Task.Delay(options.Value.PollInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // PostgreSQL away: the rows wait in the table; try again later.
                backoff = TimeSpan.FromMilliseconds(Math.Clamp(backoff.TotalMilliseconds * 2, 250, 10_000));
                LogPollFailed(logger, ex, backoff.TotalMilliseconds);
                await Task.Delay(backoff, clock, stoppingToken);
            }
        }
    }

    /// <summary>Attempts one due delivery; false when none is due.</summary>
    public async Task<bool> SendNextAsync(CancellationToken ct)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        var due = await ClaimAsync(work, ct);
        if (due is null)
        {
            return false;
        }

        var settings = options.Value;
        var body = WebhookPayload.Build(due.ProposalId, due.From, due.To, due.Reason, due.Version, due.At, settings.PublicBaseUrl);
        var (status, retryAfter, error) = await PostAsync(due, body, settings.Timeout, ct);
        var now = clock.GetUtcNow();
        var attempts = due.Attempts + 1;
        var verdict = WebhookRetryPolicy.Classify(status);
        DateTimeOffset? next = null;
        if (verdict == AttemptVerdict.Retry)
        {
            next = settings.RetryPolicy.NextAttempt(due.CreatedAt, now, attempts, retryAfter, Random.Shared.NextDouble());
            if (next is null)
            {
                verdict = AttemptVerdict.GiveUp;
                error = $"gave up after {attempts} attempts over {settings.GiveUpAfter}: {error ?? $"HTTP {status}"}";
            }
        }
        else if (verdict == AttemptVerdict.GiveUp)
        {
            error = $"the receiver answered HTTP {status}: not retried";
        }

        await RecordAsync(work, due.Id, verdict, attempts, now, next, status, error, ct);
        await work.CommitAsync(ct);
        switch (verdict)
        {
            case AttemptVerdict.Delivered:
                LogDelivered(logger, due.MessageId, due.AgentId, status!.Value);
                break;
            case AttemptVerdict.Retry:
                LogRetry(logger, due.MessageId, due.AgentId, due.Url.GetLeftPart(UriPartial.Authority), error ?? $"HTTP {status}", next!.Value);
                break;
            default:
                LogFailed(logger, due.MessageId, due.AgentId, due.Url.GetLeftPart(UriPartial.Authority), error!);
                break;
        }

        return true;
    }

    private async Task<(int? Status, TimeSpan? RetryAfter, string? Error)> PostAsync(DueDelivery due, string body, TimeSpan timeout, CancellationToken ct)
    {
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds();
        byte[] key;
        try
        {
            key = secrets.Open(due.ProtectedSecret);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            // Another key-encryption key than the one the secret was stored with: retried (the operator may restore the
            // right key) until the window closes, then recorded as failed.
            return (null, null, $"the signing secret does not open with the configured {AgentWebhookOptions.KeyEncryptionKey}");
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, due.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(WebhookSignature.IdHeader, due.MessageId);
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(key, due.MessageId, timestamp, body));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var retryAfter = response.Headers.RetryAfter is { } header
                ? header.Delta ?? (header.Date is { } date ? date - clock.GetUtcNow() : null)
                : null;
            return ((int)response.StatusCode, retryAfter, null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, null, $"no answer within {timeout}");
        }
        catch (HttpRequestException ex)
        {
            return (null, null, "network error: " + (ex.HttpRequestError == HttpRequestError.Unknown ? ex.Message : ex.HttpRequestError.ToString()));
        }
    }

    private static async Task<DueDelivery?> ClaimAsync(UnitOfWork work, CancellationToken ct)
    {
        await using var claim = await work.CommandAsync("""
            select d.id, d.message_id, d.agent_id, d.proposal_id, d.version, d.from_state, d.to_state, d.reason, d.at, d.attempts, d.created_at,
                   w.url, w.protected_secret
            from agent_webhook_deliveries d join agent_webhooks w on w.agent_id = d.agent_id
            where d.status = 'pending' and d.next_attempt_at <= now()
              and not exists (select 1 from agent_webhook_deliveries e where e.proposal_id = d.proposal_id and e.status = 'pending' and e.id < d.id)
            order by d.next_attempt_at, d.id
            limit 1
            for update of d skip locked
            """);
        await using var reader = await claim.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new DueDelivery(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetGuid(3), reader.GetInt64(4), reader.GetString(5),
                reader.GetString(6), reader.GetString(7), reader.GetFieldValue<DateTimeOffset>(8), reader.GetInt32(9),
                reader.GetFieldValue<DateTimeOffset>(10), new Uri(reader.GetString(11)), (byte[])reader[12])
            : null;
    }

    private static async Task RecordAsync(UnitOfWork work, long id, AttemptVerdict verdict, int attempts, DateTimeOffset now, DateTimeOffset? next,
        int? status, string? error, CancellationToken ct)
    {
        await using var update = await work.CommandAsync("""
            update agent_webhook_deliveries set status = $2, attempts = $3, last_attempt_at = $4, next_attempt_at = coalesce($5, next_attempt_at),
                last_status = $6, last_error = $7, delivered_at = case when $2 = 'delivered' then $4 else null end
            where id = $1
            """);
        update.Parameters.Add(new() { Value = id });
        update.Parameters.Add(new()
        {
            Value = verdict switch
            {
                AttemptVerdict.Delivered => AgentWebhookStore.Delivered,
                AttemptVerdict.Retry => AgentWebhookStore.Pending,
                _ => AgentWebhookStore.Failed,
            },
        });
        update.Parameters.Add(new() { Value = attempts });
        update.Parameters.Add(new() { Value = now });
        update.Parameters.Add(new() { Value = (object?)next ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        update.Parameters.Add(new() { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        update.Parameters.Add(new() { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await update.ExecuteNonQueryAsync(ct);
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Webhook delivery {WebhookId} to {AgentId} accepted with HTTP {Status}")]
    private static partial void LogDelivered(ILogger logger, string webhookId, string agentId, int status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook delivery {WebhookId} to {AgentId} at {Origin} not accepted ({Error}); next attempt at {Next}")]
    private static partial void LogRetry(ILogger logger, string webhookId, string agentId, string origin, string error, DateTimeOffset next);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook delivery {WebhookId} to {AgentId} at {Origin} failed for good: {Error}")]
    private static partial void LogFailed(ILogger logger, string webhookId, string agentId, string origin, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook dispatch failed; retrying in {DelayMs} ms")]
    private static partial void LogPollFailed(ILogger logger, Exception exception, double delayMs);
}

/// <summary>Webhook signing secrets at rest: AES-GCM under the orchestrator's key-encryption key (they must be usable to sign).</summary>
public sealed class AgentWebhookSecrets(KeyProtector protector)
{
    /// <summary>A new secret: the wire form for the agent (shown once) and the protected key bytes to store.</summary>
    public (string Secret, byte[] Protected) Create()
    {
        var secret = WebhookSignature.NewSecret();
        return (secret, protector.Protect(WebhookSignature.KeyOf(secret)));
    }

    public byte[] Open(byte[] protectedKey) => protector.Unprotect(protectedKey);
}
