using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace ControlPlane.ServiceDefaults.Security.RateLimiting;

/// <summary>
/// At most <see cref="Limit"/> requests per partition (a principal, a client id, an address) in any sliding
/// <see cref="Window"/>. <see cref="Name"/> separates the counters of different rules in Redis.
/// </summary>
public sealed record RateLimitRule
{
    public RateLimitRule(string name, int limit, TimeSpan window)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        if (window < TimeSpan.FromMilliseconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, "A rate-limit window must be at least 1 ms.");
        }

        Name = name;
        Limit = limit;
        Window = window;
    }

    public string Name { get; }

    public int Limit { get; }

    public TimeSpan Window { get; }

    /// <summary>
    /// Reads <c>{section}:Limit</c> and <c>{section}:Window</c> (a TimeSpan such as 00:01:00), falling back to the
    /// defaults, so every service configures its limits the same way.
    /// </summary>
    public static RateLimitRule FromConfiguration(IConfiguration configuration, string section, string name, int defaultLimit, TimeSpan defaultWindow)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var limitText = configuration[$"{section}:Limit"];
        var windowText = configuration[$"{section}:Window"];
        var limit = defaultLimit;
        if (limitText is not null && !int.TryParse(limitText, NumberStyles.Integer, CultureInfo.InvariantCulture, out limit))
        {
            throw new InvalidOperationException($"{section}:Limit must be a whole number, not '{limitText}'.");
        }

        var window = defaultWindow;
        if (windowText is not null && !TimeSpan.TryParse(windowText, CultureInfo.InvariantCulture, out window))
        {
            throw new InvalidOperationException($"{section}:Window must be a TimeSpan such as 00:01:00, not '{windowText}'.");
        }

        return new RateLimitRule(name, limit, window);
    }
}

public enum RateLimitOutcome
{
    /// <summary>Counted and allowed.</summary>
    Allowed,

    /// <summary>Over the limit: answer 429 with <see cref="RateLimitDecision.RetryAfter"/>.</summary>
    Limited,

    /// <summary>Redis could not be asked. The caller decides: fail closed (503) or open (let it through).</summary>
    Unavailable,
}

/// <summary>The answer for one request.</summary>
public sealed record RateLimitDecision(RateLimitOutcome Outcome, int Remaining, TimeSpan RetryAfter)
{
    /// <summary>The store could not be asked; callers that fail closed suggest a retry in a few seconds.</summary>
    public static RateLimitDecision StoreUnavailable { get; } = new(RateLimitOutcome.Unavailable, 0, TimeSpan.FromSeconds(5));

    public bool IsAllowed => Outcome == RateLimitOutcome.Allowed;

    /// <summary>The Retry-After header value: whole seconds, at least 1.</summary>
    public int RetryAfterSeconds => Math.Max(1, (int)Math.Ceiling(RetryAfter.TotalSeconds));
}
