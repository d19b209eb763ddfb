using System.Globalization;

namespace ControlPlane.Identity.Tokens;

/// <summary>
/// Lifetimes and key-rotation timing from configuration (Identity:*), checked at start so a typo fails the
/// start instead of issuing day-long tokens.
/// </summary>
public sealed record TokenSettings(
    TimeSpan Lifetime,
    TimeSpan KeyRotationInterval,
    TimeSpan KeyPublishLead,
    TimeSpan KeyCacheDuration,
    TimeSpan KeyOverlapMargin,
    TimeSpan KeyRotationCheckInterval,
    TimeSpan MaxClientAssertionLifetime)
{
    /// <summary>Access tokens are minutes, never hours: revocation of a credential relies on their expiry.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(1);

    /// <summary>
    /// How long a retired key stays in JWKS: the last token it signed may have been signed by a replica that had
    /// not seen the retirement yet (key cache), lives <see cref="Lifetime"/>, and validators allow clock skew
    /// (the margin).
    /// </summary>
    public TimeSpan RetiredKeyRetention => Lifetime + KeyCacheDuration + KeyOverlapMargin;

    public static TokenSettings FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var settings = new TokenSettings(
            Read(configuration, "Identity:TokenLifetime", TimeSpan.FromMinutes(10)),
            Read(configuration, "Identity:KeyRotationInterval", TimeSpan.FromDays(30)),
            Read(configuration, "Identity:KeyPublishLead", TimeSpan.FromMinutes(15)),
            Read(configuration, "Identity:SigningKeyCacheDuration", TimeSpan.FromMinutes(1)),
            Read(configuration, "Identity:KeyOverlapMargin", TimeSpan.FromMinutes(1)),
            Read(configuration, "Identity:KeyRotationCheckInterval", TimeSpan.FromMinutes(1)),
            Read(configuration, "Identity:ClientAssertion:MaxLifetime", TimeSpan.FromMinutes(5)));
        if (settings.Lifetime > MaxLifetime)
        {
            throw new InvalidOperationException($"Identity:TokenLifetime is {settings.Lifetime}; access tokens live at most {MaxLifetime}.");
        }

        return settings;
    }

    private static TimeSpan Read(IConfiguration configuration, string key, TimeSpan fallback)
    {
        var text = configuration[key];
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value) && value > TimeSpan.Zero
            ? value
            : throw new InvalidOperationException($"{key} must be a positive TimeSpan such as 00:10:00, not '{text}'.");
    }
}
