using ControlPlane.Identity.Tokens;

namespace ControlPlane.Identity.Keys;

/// <summary>What the scheduled rotation does on one check.</summary>
public enum KeyScheduleStep
{
    Nothing,

    /// <summary>Publish the next key in JWKS without signing with it, so every validator has it before it is used.</summary>
    PublishNext,

    /// <summary>The published next key starts signing; the active one retires.</summary>
    Promote,
}

/// <summary>
/// The automatic rotation schedule, without I/O: the active key signs for <see cref="TokenSettings.KeyRotationInterval"/>;
/// its successor is published <see cref="TokenSettings.KeyPublishLead"/> before it takes over (validators cache
/// JWKS for minutes), and never takes over before it has been published for that long.
/// </summary>
public static class KeySchedule
{
    public static KeyScheduleStep Decide(DateTimeOffset? activeSince, DateTimeOffset? pendingSince, DateTimeOffset now, TokenSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (activeSince is null)
        {
            // No active key is the start-up path's job (it promotes a pending key or creates one).
            return KeyScheduleStep.Nothing;
        }

        var due = activeSince.Value + settings.KeyRotationInterval;
        if (pendingSince is null)
        {
            return now >= due - settings.KeyPublishLead ? KeyScheduleStep.PublishNext : KeyScheduleStep.Nothing;
        }

        return now >= due && now >= pendingSince.Value + settings.KeyPublishLead ? KeyScheduleStep.Promote : KeyScheduleStep.Nothing;
    }
}
