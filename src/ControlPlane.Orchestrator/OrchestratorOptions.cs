using ControlPlane.Orchestrator.Scheduling;

namespace ControlPlane.Orchestrator;

/// <summary>Configuration section "Orchestrator" (see README.md next to this file).</summary>
public sealed class OrchestratorOptions
{
    public const string Section = "Orchestrator";
    public const int DefaultConcurrency = 2;

    /// <summary>Environment names proposals may target.</summary>
    public List<string> Environments { get; set; } = [];

    public RateLimitOptions RateLimit { get; set; } = new();

    public ApprovalOptions Approvals { get; set; } = new();

    public TimerOptions Timers { get; set; } = new();

    /// <summary>Executions at once per environment (Orchestrator:Concurrency:production = 1); <see cref="DefaultConcurrency"/> otherwise.</summary>
    public Dictionary<string, int> Concurrency { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Proposal action kind → the runner action that executes it (Orchestrator:Actions:restart = {…}).</summary>
    public Dictionary<string, ActionMapping> Actions { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The rollback step for actions whose mapping names none.</summary>
    public StepMapping Rollback { get; set; } = new() { ActionKind = "run-command", Fleet = "remediation", Parameters = new() { ["command"] = "rollback" } };

    public StepOptions Steps { get; set; } = new();

    public WorkOptions Work { get; set; } = new();

    public LeaseOptions Leases { get; set; } = new();

    public SchedulingOptions Scheduling { get; set; } = new();

    public IReadOnlyList<string> EffectiveEnvironments => Environments.Count > 0 ? Environments : ["dev", "staging", "production"];

    public int ConcurrencyFor(string environment) =>
        Concurrency.TryGetValue(environment, out var limit) && limit > 0 ? limit : DefaultConcurrency;
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

public sealed class StepOptions
{
    /// <summary>Fleet of validation work unless the step names one (parameter "fleet").</summary>
    public string ValidateFleet { get; set; } = "testing";

    /// <summary>Fleet of verification work unless the step names one (parameter "fleet").</summary>
    public string VerifyFleet { get; set; } = "testing";
}

public sealed class WorkOptions
{
    /// <summary>How long a runner may take (WorkRequested.Timeout).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Added to the timeout before orchestrator gives up waiting for WorkCompleted.</summary>
    public TimeSpan Grace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Offers of one piece of work in all (the first plus re-offers after a timeout).</summary>
    public int MaxAttempts { get; set; } = 2;

    /// <summary>
    /// No runner acknowledged (accepted) the work within this time: offer it again under a new work id (fleet re-offers
    /// its unaccepted packages itself after Fleet:AckTimeout, 15 s; this covers work fleet could not place at all).
    /// </summary>
    public TimeSpan AcceptTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Offers in all while no runner accepted any (never counted against <see cref="MaxAttempts"/>'s failures); then the deadline decides.</summary>
    public int MaxOffers { get; set; } = 3;
}

public sealed class LeaseOptions
{
    /// <summary>Lease lifetime in Redis; renewed every third of it while the holder lives.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class SchedulingOptions
{
    /// <summary>
    /// How often the scheduler retries waiting proposals (it is also woken by every change). Change windows are
    /// evaluated on every pass, so work held by a window starts at most this long after the window lets it.
    /// </summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the dependents system-graph reported for a node a window freezes (extendsToDependents) are reused
    /// before the scheduler asks again: a graph change reaches the windows at most this late.
    /// </summary>
    public TimeSpan DependentsTtl { get; set; } = TimeSpan.FromSeconds(30);
}
