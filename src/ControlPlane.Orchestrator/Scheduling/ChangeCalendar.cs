namespace ControlPlane.Orchestrator.Scheduling;

/// <summary>A change freeze from configuration: nothing new starts in Environment between From and To.</summary>
public sealed class FreezeWindow
{
    public string Environment { get; set; } = string.Empty;

    public DateTimeOffset From { get; set; }

    public DateTimeOffset To { get; set; }

    public string? Reason { get; set; }
}

/// <summary>Answers "may anything new start in this environment now?" from the configured freezes.</summary>
public static class ChangeCalendar
{
    public static string? FrozenBecause(IEnumerable<FreezeWindow> freezes, string environment, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(freezes);
        var freeze = freezes.FirstOrDefault(f => string.Equals(f.Environment, environment, StringComparison.Ordinal) && f.From <= now && now < f.To);
        return freeze is null ? null : $"change freeze in {environment} until {freeze.To:u}" + (freeze.Reason is { Length: > 0 } r ? $" ({r})" : string.Empty);
    }
}
