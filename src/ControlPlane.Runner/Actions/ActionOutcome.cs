using ControlPlane.Contracts;

namespace ControlPlane.Runner.Actions;

/// <summary>What an action did. Outcome Refused means it did nothing (the package asked for something not allowed).</summary>
public sealed record ActionOutcome(WorkOutcome Outcome, int? ExitCode, TimeSpan Duration, string OutputDigest, string? Excerpt, string? Reason)
{
    public static readonly string EmptyDigest = CanonicalJson.HashBytes([]);

    public static ActionOutcome Refuse(string reason) => new(WorkOutcome.Refused, null, TimeSpan.Zero, EmptyDigest, null, reason);
}

/// <summary>One configured action kind. A handler runs only packages whose signature, claims and replay checks passed.</summary>
public interface IActionHandler
{
    string ActionKind { get; }

    /// <summary>
    /// Why this runner will not run the package's action (not allow-listed, bad parameters), or null. Asked before the
    /// package is accepted and signed as started, so a refusal never looks like a change that began.
    /// </summary>
    string? Refusal(WorkPackage package);

    /// <summary>Runs the package's action; must stop by <paramref name="deadline"/> (the package's expiry).</summary>
    Task<ActionOutcome> RunAsync(WorkPackage package, DateTimeOffset deadline, CancellationToken ct);

    /// <summary>
    /// Runs it with the package's target credential (opened from its seal; null when it has none). An action that does
    /// not hand credentials on (http-check) ignores it.
    /// </summary>
    Task<ActionOutcome> RunAsync(WorkPackage package, string? credential, DateTimeOffset deadline, CancellationToken ct) => RunAsync(package, deadline, ct);
}
