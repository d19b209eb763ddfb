namespace ControlPlane.Fleet;

/// <summary>Fleet's timing knobs (section "Fleet").</summary>
public sealed class FleetOptions
{
    public const string Section = "Fleet";

    /// <summary>A runner without a heartbeat for this long is silent: it gets no new work.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often pending work is re-offered, silent runners are detected and expired packages closed.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Added to a request's timeout for the package expiry: delivery and result-reporting time.</summary>
    public TimeSpan PackageExpiryMargin { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An issued package the runner has not accepted within this time is offered again (another runner when one is live).</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The longest timeout a work request may ask for.</summary>
    public TimeSpan MaxWorkTimeout { get; set; } = TimeSpan.FromHours(6);
}
