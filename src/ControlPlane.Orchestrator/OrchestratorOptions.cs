namespace ControlPlane.Orchestrator;

/// <summary>Configuration section "Orchestrator" (see README "Orchestrator configuration").</summary>
public sealed class OrchestratorOptions
{
    public const string Section = "Orchestrator";

    /// <summary>Environment names proposals may target.</summary>
    public List<string> Environments { get; set; } = [];

    public RateLimitOptions RateLimit { get; set; } = new();

    public ApprovalOptions Approvals { get; set; } = new();

    public TimerOptions Timers { get; set; } = new();

    public IReadOnlyList<string> EffectiveEnvironments => Environments.Count > 0 ? Environments : ["dev", "staging", "production"];
}

public sealed class RateLimitOptions
{
    /// <summary>Proposal submissions per principal per minute (HTTP and bus together).</summary>
    public int PerMinute { get; set; } = 120;
}

public sealed class ApprovalOptions
{
    /// <summary>Used when a require-approval decision names no expiry.</summary>
    public TimeSpan DefaultExpiresAfter { get; set; } = TimeSpan.FromHours(24);
}

public sealed class TimerOptions
{
    /// <summary>How often the timer poller looks for due timers.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);
}
