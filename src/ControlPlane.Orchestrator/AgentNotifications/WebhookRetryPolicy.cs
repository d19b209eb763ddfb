using System.Globalization;
using System.Net;

namespace ControlPlane.Orchestrator.AgentNotifications;

/// <summary>What one delivery attempt led to.</summary>
public enum AttemptVerdict
{
    Delivered,
    Retry,
    GiveUp,
}

/// <summary>
/// When a webhook delivery is tried again. Network errors, timeouts, 5xx, 408 and 429 are passing troubles: retried
/// with exponential backoff (doubling from <see cref="FirstDelay"/>, capped at <see cref="MaxDelay"/>, with jitter so
/// many deliveries do not return at once), never sooner than the receiver's Retry-After. Any other 4xx is the
/// receiver's lasting answer (410 Gone, 400 …): given up at once. Nothing is retried past <see cref="GiveUpAfter"/>
/// from the delivery's creation. Pure: the caller passes the clock and the random draw.
/// </summary>
public sealed record WebhookRetryPolicy(TimeSpan FirstDelay, TimeSpan MaxDelay, TimeSpan GiveUpAfter)
{
    /// <summary>Whether an answer with <paramref name="status"/> (null: no answer at all) is worth another attempt.</summary>
    public static bool IsTransient(int? status) => status switch
    {
        null => true,
        (int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests => true,
        >= 500 => true,
        _ => false,
    };

    public static AttemptVerdict Classify(int? status) => status switch
    {
        >= 200 and < 300 => AttemptVerdict.Delivered,
        _ when IsTransient(status) => AttemptVerdict.Retry,
        _ => AttemptVerdict.GiveUp,
    };

    /// <summary>
    /// The delay before attempt <paramref name="attempts"/> + 1, given <paramref name="attempts"/> failed ones;
    /// <paramref name="jitter"/> in [0, 1) spreads it by up to ±20 %.
    /// </summary>
    public TimeSpan Backoff(int attempts, double jitter)
    {
        var exponent = Math.Clamp(attempts - 1, 0, 30);
        var raw = Math.Min(FirstDelay.TotalMilliseconds * Math.Pow(2, exponent), MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(raw * (0.8 + (0.4 * Math.Clamp(jitter, 0, 1))));
    }

    /// <summary>
    /// When to try again after a transient failure, or null to give up (the window from <paramref name="createdAt"/>
    /// would be passed). A Retry-After longer than the backoff wins.
    /// </summary>
    public DateTimeOffset? NextAttempt(DateTimeOffset createdAt, DateTimeOffset now, int attempts, TimeSpan? retryAfter, double jitter)
    {
        var delay = Backoff(attempts, jitter);
        if (retryAfter is { } asked && asked > delay)
        {
            delay = asked;
        }

        var next = now + delay;
        return next - createdAt > GiveUpAfter ? null : next;
    }

    /// <summary>Retry-After as delta-seconds or an HTTP-date (RFC 9110 §10.2.3); null when absent or unreadable.</summary>
    public static TimeSpan? ParseRetryAfter(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return DateTimeOffset.TryParseExact(value.Trim(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? (at > now ? at - now : TimeSpan.Zero)
            : null;
    }
}
